import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { specifiedRules, validate } from 'graphql';
import { apiSchemaOf, compose, formatProblems, type CompositionProblem, type SubgraphSource } from './compose.js';
import { usedCoordinates } from './coordinates.js';
import type { KnownOperation } from './operations.js';

export type ChangeLevel = 'breaking' | 'dangerous' | 'safe';

export interface SchemaChange {
  level: ChangeLevel;
  /** graphql-inspector's change type, e.g. `FIELD_REMOVED`. */
  type: string;
  message: string;
  /** Schema coordinate, e.g. `Booking.date`. */
  path?: string;
  /** Known operations this change breaks (breaking changes only), as `name (source)`. */
  breaks: string[];
}

export interface BrokenOperation {
  name: string;
  source: string;
  /** Validation errors against the candidate API schema (empty when it validates but a field it reads changed type). */
  errors: string[];
  /** Paths of the breaking changes that break it. */
  changes: string[];
  /** Set when it did not validate against the current API schema either: broken already, not by this change. */
  brokenBefore?: true;
}

export interface CheckReport {
  subgraph: string;
  /** 0 safe for every known operation, 1 a known operation breaks, 2 composition fails. */
  exitCode: 0 | 1 | 2;
  status: 'safe' | 'breaks-operations' | 'composition-failed';
  problems: CompositionProblem[];
  changes: SchemaChange[];
  brokenOperations: BrokenOperation[];
  operationsChecked: number;
  /** The candidate supergraph, when it composed. */
  supergraphSdl?: string;
}

export interface CheckInput {
  /** The subgraphs as they are now (from the composition config). */
  subgraphs: SubgraphSource[];
  /** The subgraph being changed and its candidate schema. */
  subgraph: string;
  candidateSdl: string;
  /** The API schema clients use today: from the served supergraph, else composed from `subgraphs`. */
  currentSupergraphSdl?: string;
  operations: KnownOperation[];
}

const LEVEL: Record<CriticalityLevel, ChangeLevel> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

const parentPath = (path: string) => path.split('.').slice(0, -1).join('.');

/**
 * Composes the candidate subgraph schema with the others, diffs the resulting API
 * schema against today's, and validates every known operation against it.
 */
export async function checkSubgraph(input: CheckInput): Promise<CheckReport> {
  const base = { subgraph: input.subgraph, operationsChecked: input.operations.length };
  if (!input.subgraphs.some((s) => s.name === input.subgraph)) {
    const names = input.subgraphs.map((s) => s.name).join(', ');
    return {
      ...base,
      exitCode: 2,
      status: 'composition-failed',
      problems: [
        { subgraph: input.subgraph, code: 'UNKNOWN_SUBGRAPH', message: `no subgraph "${input.subgraph}" in the composition config (${names})`, locations: [] },
      ],
      changes: [],
      brokenOperations: [],
    };
  }
  const candidate = compose(input.subgraphs.map((s) => (s.name === input.subgraph ? { ...s, sdl: input.candidateSdl } : s)));
  if (!candidate.ok) return { ...base, exitCode: 2, status: 'composition-failed', problems: candidate.problems, changes: [], brokenOperations: [] };

  let currentSdl = input.currentSupergraphSdl;
  if (currentSdl === undefined) {
    const current = compose(input.subgraphs);
    // Nothing composes today: every part of the candidate is new, so compare with itself.
    currentSdl = current.ok ? current.supergraphSdl : candidate.supergraphSdl;
  }
  return { ...base, problems: [], ...(await compareApiSchemas(currentSdl, candidate.supergraphSdl, input.operations)), supergraphSdl: candidate.supergraphSdl };
}

/**
 * The same check for a whole supergraph (what `schema:rollback` restores): the changes
 * to the API schema from `currentSupergraphSdl` and the known operations they break.
 * `label` names it in the report (`rollback to version 5`).
 */
export async function checkSupergraph(input: {
  label: string;
  currentSupergraphSdl: string;
  candidateSupergraphSdl: string;
  operations: KnownOperation[];
}): Promise<CheckReport> {
  return {
    subgraph: input.label,
    operationsChecked: input.operations.length,
    problems: [],
    ...(await compareApiSchemas(input.currentSupergraphSdl, input.candidateSupergraphSdl, input.operations)),
    supergraphSdl: input.candidateSupergraphSdl,
  };
}

async function compareApiSchemas(
  currentSdl: string,
  candidateSdl: string,
  operations: KnownOperation[],
): Promise<Pick<CheckReport, 'exitCode' | 'status' | 'changes' | 'brokenOperations'>> {
  const before = apiSchemaOf(currentSdl);
  const after = apiSchemaOf(candidateSdl);

  const changes: SchemaChange[] = (await diff(before, after)).map((c) => ({
    level: LEVEL[c.criticality.level],
    type: c.type,
    message: c.message,
    path: c.path,
    breaks: [],
  }));
  const breaking = changes.filter((c) => c.level === 'breaking');

  const brokenOperations: BrokenOperation[] = [];
  for (const op of operations) {
    const errors = validate(after, op.document, specifiedRules).map((e) => e.message);
    const used = usedCoordinates(before, op.document);
    const culprits = breaking.filter((c) => c.path && (used.has(c.path) || (errors.length > 0 && used.has(parentPath(c.path)))));
    if (errors.length === 0 && culprits.length === 0) continue;
    // Still a failure (a known operation must work), but not this change's doing.
    const brokenBefore = validate(before, op.document, specifiedRules).length > 0;
    brokenOperations.push({ name: op.name, source: op.source, errors, changes: culprits.map((c) => c.path!), ...(brokenBefore ? { brokenBefore } : {}) });
    for (const c of culprits) c.breaks.push(`${op.name} (${op.source})`);
  }

  const exitCode = brokenOperations.length ? 1 : 0;
  return { exitCode, status: exitCode ? 'breaks-operations' : 'safe', changes, brokenOperations };
}

/** The report as a terminal reads it; `files` maps subgraphs to schema files for error locations. */
export function formatCheckReport(r: CheckReport, files: Record<string, string> = {}): string {
  const lines: string[] = [];
  if (r.status === 'composition-failed') {
    lines.push(`✖ ${r.subgraph}: the candidate schema does not compose (${r.problems.length} error(s))`);
    lines.push(formatProblems(r.problems, files));
    return lines.join('\n');
  }
  const count = (level: ChangeLevel) => r.changes.filter((c) => c.level === level).length;
  lines.push(
    `${r.subgraph}: ${r.changes.length} change(s) to the API schema: ${count('breaking')} breaking, ${count('dangerous')} dangerous, ${count('safe')} safe`,
  );
  for (const level of ['breaking', 'dangerous', 'safe'] as const) {
    for (const c of r.changes.filter((x) => x.level === level)) {
      lines.push(`  ${level.padEnd(9)} ${c.message}${c.path ? ` [${c.path}]` : ''}`);
      for (const b of c.breaks) lines.push(`            breaks ${b}`);
    }
  }
  lines.push(`${r.operationsChecked} known operation(s) checked`);
  if (r.brokenOperations.length) {
    lines.push(`✖ ${r.brokenOperations.length} known operation(s) break:`);
    for (const op of r.brokenOperations) {
      const cause = op.changes.length ? ` by ${op.changes.join(', ')}` : op.brokenBefore ? ' (already broken before this change)' : '';
      lines.push(`  ${op.name} (${op.source})${cause}`);
      for (const e of op.errors) lines.push(`      ${e}`);
    }
  } else {
    lines.push('✔ no known operation breaks');
  }
  return lines.join('\n');
}
