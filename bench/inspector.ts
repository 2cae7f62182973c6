// A benchmark's window into one of its own child processes, started with
// `--inspect=127.0.0.1:0` (the inspector on a port of the kernel's choosing, on loopback, and
// only when the benchmark asks for it): a full collection then the heap that survived it, and
// heap snapshots, and CPU profiles of a window of its life, over the DevTools protocol.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

/** The inspector's WebSocket URL, from the line Node prints on stderr when it listens. */
export const INSPECTOR_LINE = /Debugger listening on (ws:\/\/\S+)/;

export class Inspector {
  #next = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #onChunk?: (chunk: string) => void;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: { chunk: string };
      };
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') this.#onChunk?.(msg.params!.chunk);
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the inspector closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The heap (MB) that lives through a full collection: what the process keeps, without its garbage. */
  async liveHeapMb(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const { usedSize } = await this.call<{ usedSize: number }>('Runtime.getHeapUsage');
    return usedSize / 2 ** 20;
  }

  /** Writes a heap snapshot (it collects garbage first) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.#onChunk = (chunk) => out.write(chunk);
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#onChunk = undefined;
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }

  /** Starts V8's CPU profiler (sampling every `intervalUs` µs): only what runs from now on is in the profile. */
  async startProfile(intervalUs = 500): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.call('Profiler.start');
  }

  /** Stops the CPU profiler and writes its profile (the `.cpuprofile` format of `node --cpu-prof`) to `file`. */
  async stopProfile(file: string): Promise<void> {
    const { profile } = await this.call<{ profile: unknown }>('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
  }

  close(): void {
    this.ws.close();
  }
}
