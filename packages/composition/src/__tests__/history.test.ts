import { describe, expect, it } from 'vitest';
import { originVersion, previousVersion, servedStack, servedVersion, type HistoryEntry } from '../history.js';

/** A history as the commands write it: `b` baseline, `p` publish, `r` bare rollback, `rN` rollback to version N. */
function history(steps: string[]): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const step of steps) {
    const version = entries.length + 1;
    const base = {
      version,
      at: `2027-01-31T12:00:${String(version).padStart(2, '0')}.000Z`,
      author: 't',
      hash: `h${version}`,
      supergraphFile: '',
      subgraphsFile: '',
    };
    if (step === 'b') entries.push({ ...base, kind: 'baseline' });
    else if (step === 'p') entries.push({ ...base, kind: 'publish', subgraph: 'schedule' });
    else {
      const restored = step === 'r' ? previousVersion(entries)?.version : Number(step.slice(1));
      if (restored === undefined) throw new Error(`nothing to roll back to at step ${version}`);
      entries.push({ ...base, kind: 'rollback', restoredVersion: restored });
    }
  }
  return entries;
}

const origin = (entries: HistoryEntry[], e: HistoryEntry | undefined) => (e ? originVersion(entries, e).version : undefined);

describe('what a bare schema:rollback restores', () => {
  it("follows what was served in the issue's sequence: v2, v3, rollback, rollback, v6, rollback ends on v5 (the baseline's supergraph)", () => {
    const h = history(['b', 'p', 'p', 'r', 'r', 'p']);
    expect(h.slice(3).map((e) => e.restoredVersion)).toEqual([2, 1, undefined]);
    expect(previousVersion(h)?.version).toBe(5);
    expect(origin(h, previousVersion(h))).toBe(1);
    const after = history(['b', 'p', 'p', 'r', 'r', 'p', 'r']);
    expect(servedVersion(after)?.version).toBe(7);
    expect(origin(after, servedVersion(after))).toBe(1);
    // Nothing was served before the baseline.
    expect(previousVersion(after)).toBeUndefined();
  });

  it('never restores a version a rollback undid, however the publishes and rollbacks interleave', () => {
    const h = history(['b', 'p', 'p', 'r', 'p', 'p', 'r', 'r']);
    // v3 was undone by v4; v6 by v7, v5 by v8: what is served is v2's supergraph, and before it the baseline.
    expect(origin(h, servedVersion(h))).toBe(2);
    expect(previousVersion(h)?.version).toBe(1);
    expect(servedStack(h).map((e) => e.version)).toEqual([1, 8]);
  });

  it('treats a rollback to a named version that is not on the stack like a publish: a bare rollback then undoes it', () => {
    const h = history(['b', 'p', 'p', 'r', 'r3']);
    expect(origin(h, servedVersion(h))).toBe(3);
    expect(previousVersion(h)?.version).toBe(4);
    expect(origin(h, previousVersion(h))).toBe(2);
    // A named rollback to a version still on the stack pops back to it.
    const back = history(['b', 'p', 'p', 'p', 'r2']);
    expect(servedStack(back).map((e) => e.version)).toEqual([1, 5]);
    expect(previousVersion(back)?.version).toBe(1);
  });

  it('reads a history written by the old rollback (which restored v3 after v6) without going back to v3 again', () => {
    // The history: 7 restored the undone v3; rolling that back returns to v6, the version served before it.
    const h = history(['b', 'p', 'p', 'r2', 'r1', 'p', 'r3']);
    expect(previousVersion(h)?.version).toBe(6);
    expect(
      history(['b', 'p', 'p', 'r2', 'r1', 'p', 'r3', 'r'])
        .map((e) => e.restoredVersion)
        .at(-1),
    ).toBe(6);
  });

  it('has nothing to restore in an empty history or after the baseline alone', () => {
    expect(previousVersion([])).toBeUndefined();
    expect(previousVersion(history(['b']))).toBeUndefined();
    expect(previousVersion(history(['b', 'p']))?.version).toBe(1);
  });
});
