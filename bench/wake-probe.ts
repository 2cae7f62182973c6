// What the same piece of JavaScript costs in CPU time when it runs back to back and when it runs
// right after the thread slept. At 1 connection the gateway works in pieces between waits for
// its subgraphs (1 to 20 ms each); on a shared virtual machine the caches it had are gone by the
// time it wakes, and that is paid in CPU time no code change in the gateway removes. Run in a
// process of its own (small heap, nothing else on its event loop), before and after the
// overhead cells, so every results file says what the machine charged for waking at the time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TSX_LOADER } from './processes.js';
import { median } from './table.js';

export interface WakeProbe {
  /** When it ran: before the overhead cells or after them. */
  at: string;
  /** Median CPU time (µs) of one unit of work, by the sleep before it: 'none' runs back to back. */
  medianUs: Record<string, number>;
}

/** The sleeps measured, in ms; -1 is none (back to back). */
const GAPS = [-1, 1, 5, 20] as const;

const gapName = (gap: number) => (gap < 0 ? 'none' : `${gap} ms`);

/** About half a millisecond of what a gateway does per answer: JSON out and in, objects made and indexed. */
function makeUnit() {
  const answer = {
    items: Array.from({ length: 200 }, (_, i) => ({ id: `id-${i}`, name: `name ${i}`, n: i, tags: ['a', 'b', 'c'], nested: { x: i * 1.5, y: String(i) } })),
  };
  return () => {
    let size = 0;
    for (let k = 0; k < 2; k++) {
      const copy = JSON.parse(JSON.stringify(answer)) as typeof answer;
      const byId = new Map(copy.items.map((it) => [it.id, it]));
      size += byId.size;
    }
    return size;
  };
}

async function probe(): Promise<Record<string, number>> {
  const unit = makeUnit();
  for (let i = 0; i < 500; i++) unit(); // optimised before anything is timed
  const out: Record<string, number> = {};
  let sink = 0;
  for (const gap of GAPS) {
    const samples: number[] = [];
    for (let i = 0; i < (gap >= 20 ? 50 : 150); i++) {
      if (gap >= 0) await new Promise((r) => setTimeout(r, gap));
      const c0 = process.cpuUsage();
      sink += unit();
      const c = process.cpuUsage(c0);
      samples.push(c.user + c.system);
    }
    out[gapName(gap)] = median(samples);
  }
  if (sink < 0) throw new Error('unreachable');
  return out;
}

/** Runs the probe in a node process of its own and returns its medians. */
export function measureWakePenalty(at: string): Promise<WakeProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wake probe exited with ${code}`));
      try {
        resolve({ at, medianUs: JSON.parse(out) as Record<string, number> });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** One line for a results file. */
export function wakeProbeLine(p: WakeProbe): string {
  const none = p.medianUs.none;
  const parts = Object.entries(p.medianUs).map(([gap, us]) =>
    gap === 'none' ? `back to back ${Math.round(us)} µs` : `after a ${gap} sleep ${Math.round(us)} µs (${(us / none).toFixed(2)}×)`,
  );
  return `${p.at}: ${parts.join(', ')}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  probe().then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
