// Compares heap snapshots of one process (as `npm run bench -- --soak --heap-snapshots DIR`
// writes them): which objects were allocated between the first two and still live in the
// last, grouped by kind and by the object that holds them, with a retainer path from the GC
// roots for the biggest holders. Node ids are stable across snapshots of one process, so
// "new" is "an id the earlier snapshot did not have", as Chrome DevTools' comparison does.
//
//   node --max-old-space-size=6000 --import tsx bench/heap-diff.ts A.heapsnapshot B.heapsnapshot [C.heapsnapshot]
//
// With two snapshots: objects in B and not in A. With three: objects in B and not in A that
// are still in C (what lived through a whole half of the run: a leak's signature, where a
// cache filling and then evicting shows its entries come and go).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
    node_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

class Heap {
  readonly nf: number;
  readonly ef: number;
  readonly count: number;
  readonly firstEdge: Uint32Array;
  readonly types: string[];
  readonly edgeTypes: string[];
  private readonly iType: number;
  private readonly iName: number;
  private readonly iId: number;
  private readonly iSize: number;
  private readonly iEdges: number;
  private readonly eType: number;
  private readonly eName: number;
  private readonly eTo: number;
  byId = new Map<number, number>();

  constructor(readonly s: Snapshot) {
    const m = s.snapshot.meta;
    this.nf = m.node_fields.length;
    this.ef = m.edge_fields.length;
    this.iType = m.node_fields.indexOf('type');
    this.iName = m.node_fields.indexOf('name');
    this.iId = m.node_fields.indexOf('id');
    this.iSize = m.node_fields.indexOf('self_size');
    this.iEdges = m.node_fields.indexOf('edge_count');
    this.eType = m.edge_fields.indexOf('type');
    this.eName = m.edge_fields.indexOf('name_or_index');
    this.eTo = m.edge_fields.indexOf('to_node');
    this.types = m.node_types[0];
    this.edgeTypes = m.edge_types[0];
    this.count = s.nodes.length / this.nf;
    this.firstEdge = new Uint32Array(this.count + 1);
    let e = 0;
    for (let i = 0; i < this.count; i++) {
      this.firstEdge[i] = e;
      e += s.nodes[i * this.nf + this.iEdges] * this.ef;
      this.byId.set(s.nodes[i * this.nf + this.iId], i);
    }
    this.firstEdge[this.count] = e;
  }

  type = (i: number) => this.types[this.s.nodes[i * this.nf + this.iType]];
  name = (i: number) => this.s.strings[this.s.nodes[i * this.nf + this.iName]];
  id = (i: number) => this.s.nodes[i * this.nf + this.iId];
  size = (i: number) => this.s.nodes[i * this.nf + this.iSize];
  *edges(i: number): Generator<{ type: string; name: string; to: number }> {
    for (let e = this.firstEdge[i]; e < this.firstEdge[i + 1]; e += this.ef) {
      const type = this.edgeTypes[this.s.edges[e + this.eType]];
      const raw = this.s.edges[e + this.eName];
      const name = type === 'element' || type === 'hidden' ? `[${raw}]` : this.s.strings[raw];
      yield { type, name, to: this.s.edges[e + this.eTo] / this.nf };
    }
  }

  /** How many things an object holds: its element and property edges, and for a Map or Set its table's entries. */
  entries(i: number): number {
    let n = 0;
    for (const e of this.edges(i)) {
      if (e.type === 'element' || e.type === 'property') n++;
      if (e.type === 'internal' && e.name === 'table') for (const t of this.edges(e.to)) if (t.type === 'element' || t.type === 'internal') n++;
    }
    return n;
  }

  /** What kind of object, for grouping: the constructor for objects, the name for closures, else the V8 type. */
  kind(i: number): string {
    const t = this.type(i);
    if (t === 'object' || t === 'closure' || t === 'native') return `${t} ${this.name(i).slice(0, 80)}`;
    if (t === 'hidden' || t === 'array' || t === 'code') return `${t} ${this.name(i).slice(0, 60)}`;
    return t;
  }

  label(i: number): string {
    const t = this.type(i);
    const n = this.name(i);
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return `string ${JSON.stringify(n.slice(0, 60))}`;
    return `${t} ${n.slice(0, 80)} @${this.id(i)}`;
  }

  /** Breadth-first from the root over strong edges: each node's parent and the edge to it. */
  retainers(): { parent: Int32Array; via: string[] } {
    const parent = new Int32Array(this.count).fill(-1);
    const via: string[] = new Array(this.count);
    const queue = new Uint32Array(this.count);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    parent[0] = 0;
    while (head < tail) {
      const i = queue[head++];
      for (const e of this.edges(i)) {
        if (e.type === 'weak' || e.type === 'shortcut') continue;
        if (parent[e.to] !== -1) continue;
        parent[e.to] = i;
        via[e.to] = e.name;
        queue[tail++] = e.to;
      }
    }
    return { parent, via };
  }
}

function load(file: string): Heap {
  process.stderr.write(`reading ${file}...\n`);
  return new Heap(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
}

function totals(h: Heap): Map<string, { count: number; bytes: number }> {
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < h.count; i++) {
    const k = h.kind(i);
    const x = out.get(k) ?? { count: 0, bytes: 0 };
    x.count++;
    x.bytes += h.size(i);
    out.set(k, x);
  }
  return out;
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

function main() {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  if (files.length < 2) {
    console.error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot [C.heapsnapshot] [--top=N]');
    process.exit(1);
  }
  const a = load(files[0]);
  const aIds = new Set(a.byId.keys());
  // The objects (Maps, Sets, arrays, plain objects) of the first snapshot and how much each holds.
  const aEntries = new Map<number, number>();
  for (let i = 0; i < a.count; i++) {
    const t = a.type(i);
    if (t === 'object' || t === 'array') aEntries.set(a.id(i), a.entries(i));
  }
  const aTotals = totals(a);
  // Let the first snapshot's arrays go before the next is read.
  (a as { s?: unknown }).s = undefined;
  a.byId.clear();
  const b = load(files[1]);
  const bTotals = totals(b);
  let cIds: Set<number> | undefined;
  let cTotals: ReturnType<typeof totals> | undefined;
  if (files[2]) {
    const c = load(files[2]);
    cIds = new Set(c.byId.keys());
    cTotals = totals(c);
  }

  const sum = (t: ReturnType<typeof totals>, k: 'count' | 'bytes') => [...t.values()].reduce((s, x) => s + x[k], 0);
  const all = [aTotals, bTotals, ...(cTotals ? [cTotals] : [])];
  console.log(
    `nodes: ${all.map((t) => sum(t, 'count')).join(' → ')}; self sizes: ${all.map((t) => `${(sum(t, 'bytes') / 2 ** 20).toFixed(2)} MB`).join(' → ')}`,
  );
  console.log(`\n== kinds whose count grew most (${files.length} snapshots) ==`);
  const last = cTotals ?? bTotals;
  const grown = [...last.entries()]
    .map(([k, x]) => ({ k, d: x.count - (aTotals.get(k)?.count ?? 0), db: x.bytes - (aTotals.get(k)?.bytes ?? 0), mid: bTotals.get(k)?.count ?? 0 }))
    .sort((p, q) => q.db - p.db)
    .slice(0, top);
  for (const g of grown)
    console.log(
      `${g.k.padEnd(70)} ${String(aTotals.get(g.k)?.count ?? 0).padStart(8)} → ${String(g.mid).padStart(8)}${cTotals ? ` → ${String(last.get(g.k)!.count).padStart(8)}` : ''}  (${g.d >= 0 ? '+' : ''}${g.d}, ${kb(g.db)})`,
    );

  // The new objects of B (still alive in C), by kind and by holder.
  const fresh: number[] = [];
  for (let i = 0; i < b.count; i++) {
    const id = b.id(i);
    if (aIds.has(id)) continue;
    if (cIds && !cIds.has(id)) continue;
    fresh.push(i);
  }
  const freshBytes = fresh.reduce((s, i) => s + b.size(i), 0);
  console.log(`\n== objects new in ${files[1]}${cIds ? ` and still in ${files[2]}` : ''}: ${fresh.length}, ${kb(freshBytes)} (self sizes) ==`);
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (const i of fresh) {
    const k = b.kind(i);
    const x = byKind.get(k) ?? { count: 0, bytes: 0 };
    x.count++;
    x.bytes += b.size(i);
    byKind.set(k, x);
  }
  for (const [k, x] of [...byKind.entries()].sort((p, q) => q[1].bytes - p[1].bytes).slice(0, top))
    console.log(`${k.padEnd(70)} ${String(x.count).padStart(8)}  ${kb(x.bytes)}`);

  const { parent, via } = b.retainers();
  // Containers that were in the first snapshot and hold more now: what a leak keeps adding to
  // (and a bounded cache fills up to its cap).
  const grew: { i: number; from: number; to: number }[] = [];
  for (let i = 0; i < b.count; i++) {
    const from = aEntries.get(b.id(i));
    if (from === undefined) continue;
    const to = b.entries(i);
    if (to - from >= 20) grew.push({ i, from, to });
  }
  const freshSet = new Set(fresh);
  // The holder of a new object: its first ancestor (on the shortest path from the roots) that is
  // not itself new; the group is that holder and the edge path from it down to the object.
  const holders = new Map<number, { count: number; bytes: number; sample: number }>();
  for (const i of fresh) {
    let h = i;
    let guard = 0;
    while (freshSet.has(h) && parent[h] !== -1 && h !== 0 && guard++ < 10_000) h = parent[h];
    if (parent[h] === -1) continue; // unreachable from the roots over strong edges (weak-only)
    const x = holders.get(h) ?? { count: 0, bytes: 0, sample: i };
    x.count++;
    x.bytes += b.size(i);
    holders.set(h, x);
  }
  const pathTo = (i: number) => {
    const steps: string[] = [];
    let n = i;
    let guard = 0;
    while (n !== 0 && parent[n] !== -1 && guard++ < 40) {
      steps.push(`${b.label(n)}  ←[${via[n]}]`);
      n = parent[n];
    }
    return steps;
  };
  console.log(`\n== objects of ${files[0]} holding 20 entries more in ${files[1]} ==`);
  for (const g of grew.sort((p, q) => q.to - q.from - (p.to - p.from)).slice(0, 10)) {
    console.log(`\n${b.label(g.i)}: ${g.from} → ${g.to} entries`);
    for (const step of pathTo(g.i).slice(0, 14)) console.log(`    ${step}`);
  }
  // The biggest Maps and Sets (caches, registries, per-connection state) and what they held before.
  const big: { i: number; to: number }[] = [];
  for (let i = 0; i < b.count; i++) {
    if (b.type(i) !== 'object' || !['Map', 'Set'].includes(b.name(i))) continue;
    const to = b.entries(i);
    if (to >= 50) big.push({ i, to });
  }
  console.log(`\n== the largest Maps and Sets in ${files[1]} (references held, and in ${files[0]}) ==`);
  for (const g of big.sort((p, q) => q.to - p.to).slice(0, 12)) {
    console.log(`\n${b.label(g.i)}: ${aEntries.get(b.id(g.i)) ?? 'not there'} → ${g.to} references`);
    for (const step of pathTo(g.i).slice(0, 8)) console.log(`    ${step}`);
  }
  console.log(`\n== holders of the most new objects (by self size of what they hold) ==`);
  for (const [h, x] of [...holders.entries()].sort((p, q) => q[1].bytes - p[1].bytes).slice(0, Math.min(top, 12))) {
    console.log(`\n${b.label(h)}: ${x.count} new objects, ${kb(x.bytes)}; e.g. ${b.label(x.sample)}`);
    for (const step of pathTo(h).slice(0, 18)) console.log(`    ${step}`);
  }
}

main();
