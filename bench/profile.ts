import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  selfPercent: number;
}

/**
 * The functions a V8 CPU profile (`node --cpu-prof`) spent most self time in,
 * each sample's interval charged to the function on top of the stack; shares and the total
 * are of the busy time (idle samples left out).
 */
export async function topSelfTime(dir: string, root: string, limit = 25): Promise<{ totalMs: number; functions: HotFunction[]; file: string } | undefined> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) return undefined;
  // One profile per thread (tsx's module loader runs in a worker): the busiest is the gateway's.
  let file = '';
  let profile: CpuProfile | undefined;
  let busiest = -1;
  for (const f of files) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile;
    const busy = busyMicros(p);
    if (busy > busiest) [file, profile, busiest] = [join(dir, f), p, busy];
  }
  if (!profile) return undefined;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)!.callFrame;
    // Shares of the time the thread was busy: waiting for the next request is not the gateway's cost.
    if (frame.functionName === '(idle)') return;
    total += us;
    const url = frame.url.replace(/^file:\/\//, '');
    const where = url ? `${url.includes('node_modules') ? url.slice(url.lastIndexOf('node_modules/') + 13) : relative(root, url)}:${frame.lineNumber + 1}` : '';
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const entry = self.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    self.set(key, entry);
  });
  const functions = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, selfPercent: (100 * f.us) / total }));
  return { totalMs: total / 1000, functions, file };
}

function busyMicros(p: CpuProfile): number {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return p.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (p.timeDeltas[i] ?? 0)), 0);
}

/** Self time grouped by package (or our own source folder): where the time goes, coarsely. */
export async function selfTimeByPackage(file: string, root: string): Promise<{ pkg: string; percent: number }[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    total += us;
    const url = byId.get(id)!.callFrame.url.replace(/^file:\/\//, '');
    let pkg: string;
    if (!url) pkg = `(${byId.get(id)!.callFrame.functionName || 'native'})`;
    else if (url.startsWith('node:')) pkg = 'node core';
    else if (url.includes('node_modules/')) {
      const rest = url.slice(url.lastIndexOf('node_modules/') + 13).split('/');
      pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    } else pkg = relative(root, url).split('/').slice(0, 2).join('/');
    totals.set(pkg, (totals.get(pkg) ?? 0) + us);
  });
  return [...totals].map(([pkg, us]) => ({ pkg, percent: (100 * us) / total })).sort((a, b) => b.percent - a.percent);
}

/** A profile summary (`topSelfTime` with `selfTimeByPackage`) as markdown lines, under `heading`. */
export function profileSection(
  heading: string,
  profile: {
    totalMs: number;
    functions: HotFunction[];
    byPackage: { pkg: string; percent: number }[];
    file: string;
    byLayer?: Awaited<ReturnType<typeof cpuByLayer>>;
  },
  rows = 20,
): string[] {
  const pct = (n: number) => n.toFixed(1);
  const lines = [heading, ''];
  if (profile.byLayer)
    lines.push(
      `By layer (\`writev\` ${pct(profile.byLayer.writevPercentOfBusy)}% of the busy time: the kernel's loopback send, and any wait for a core before the thread comes back from it, which the scheduler's account above measures; the rest): ` +
        profile.byLayer.layers.map((l) => `${l.layer} ${pct(l.percent)}%`).join(', ') +
        '.',
      '',
    );
  lines.push(`Profile: \`${profile.file}\` (${(profile.totalMs / 1000).toFixed(1)} s busy). Self time by package:`, '');
  lines.push(profile.byPackage.map((p) => `${p.pkg} ${pct(p.percent)}%`).join(', '), '');
  lines.push('| self % | function | where |', '|---:|---|---|');
  for (const fn of profile.functions.slice(0, rows)) lines.push(`| ${pct(fn.selfPercent)} | \`${fn.name}\` | ${fn.where} |`);
  lines.push('');
  return lines;
}

/** The express stack as the gateway mounts it (express 5, its router and body parsers, helmet, cors, the Apollo integration). */
const EXPRESS_STACK =
  /^(express|router|body-parser|raw-body|type-is|content-type|helmet|on-finished|finalhandler|cors|qs|mime-types|mime-db|media-typer|depd|iconv-lite|http-errors|statuses|vary|parseurl|encodeurl|whatwg-mimetype|negotiator|accepts|@as-integrations)$/;

/**
 * Where the busy time went by layer: Node's HTTP, streams and events; Apollo and graphql-js;
 * the express stack; this repository; GC; native code V8 does not name. `writev` apart: its
 * samples are mostly the gateway waiting for a core after a loopback send woke a subgraph
 * (README, "Gateway overhead at low load"), not CPU; the other shares are of the rest.
 */
export async function cpuByLayer(file: string): Promise<{ writevPercentOfBusy: number; layers: { layer: string; percent: number }[] }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const layers = new Map<string, number>();
  let busy = 0;
  let writev = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url: raw } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    busy += us;
    if (functionName === 'writev') return void (writev += us);
    const url = raw.replace(/^file:\/\//, '');
    let layer: string;
    if (!url) layer = functionName === '(garbage collector)' ? 'GC' : 'native (unnamed)';
    else if (url.startsWith('node:'))
      layer = /_http_|streams|net|stream_base|buffer|events|url|timers/.test(url) ? 'Node HTTP, streams, events' : 'Node, other';
    else if (!url.includes('node_modules/')) layer = 'this repository';
    else {
      const rest = url.slice(url.lastIndexOf('node_modules/') + 13).split('/');
      const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
      layer = pkg.startsWith('@apollo/') || pkg === 'graphql' ? 'Apollo, graphql-js' : EXPRESS_STACK.test(pkg) ? 'express stack' : 'other packages';
    }
    layers.set(layer, (layers.get(layer) ?? 0) + us);
  });
  const rest = busy - writev;
  return {
    writevPercentOfBusy: busy ? (100 * writev) / busy : 0,
    layers: [...layers].map(([layer, us]) => ({ layer, percent: rest ? (100 * us) / rest : 0 })).sort((a, b) => b.percent - a.percent),
  };
}
