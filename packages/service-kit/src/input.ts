import { z } from 'zod';
import { badInput } from './errors.js';

/**
 * What every service accepts from users: the limits they share, ids and page sizes, and
 * the zod building blocks of each subgraph's `validation.ts`, so that "notes" or "an id"
 * means the same thing everywhere.
 */
export const LIMITS = {
  /** Free text a user types: notes, bios, reasons. */
  text: 2000,
  /** The largest page of a list field, and the cap on lists that have no `first`. */
  page: 100,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (id: string) => UUID.test(id);

/** Ids are UUIDs; anything else is refused before it reaches SQL. */
export function parseId(id: string, field = 'id'): string {
  if (!isUuid(id)) throw badInput(`${field} must be a UUID, got ${JSON.stringify(id.slice(0, 64))}`, field);
  return id.toLowerCase();
}

/** Bounds a `first` argument: default when unset, BAD_USER_INPUT outside 0..max. */
export function pageSize(first: number | null | undefined, fallback: number, max: number = LIMITS.page): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 0 || first > max) throw badInput(`first must be between 0 and ${max}`, 'first');
  return first;
}

// ---------- zod building blocks ----------

/** Text a user types: trimmed, at most `max` characters (`LIMITS.text` unless said), at least `min` when given. */
export function text({ min = 0, max = LIMITS.text }: { min?: number; max?: number } = {}) {
  const upTo = z.string().trim().max(max, `must be at most ${max} characters`);
  return min > 0 ? upTo.min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`) : upTo;
}

/** Optional text where blank means none: missing, null, '' and '  ' all become null. */
export const optionalText = (opts?: { max?: number }) =>
  text(opts)
    .nullish()
    .transform((v) => v || null);

/** An id inside an input object: a UUID, lower-cased (as `parseId` does for an argument). */
export const id = () =>
  z
    .string()
    .refine(isUuid, 'must be a UUID')
    .transform((v) => v.toLowerCase());

/** A whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.number().int(message).min(min, message).max(max, message);
};

/** A number from `min` to `max`. */
export const numberBetween = (min: number, max: number) => {
  const message = `must be between ${min} and ${max}`;
  return z.number().min(min, message).max(max, message);
};

/** `a.b[2].c`: a zod issue path as GraphQL writes paths into variables. */
const fieldPath = (path: readonly PropertyKey[]) =>
  path.reduce<string>((field, key) => (typeof key === 'number' ? `${field}[${key}]` : field ? `${field}.${String(key)}` : String(key)), '');

/**
 * Parses with zod; the first problem becomes a BAD_USER_INPUT whose `field` names it as
 * every refusal does (see input-paths.ts): by its place in the argument (`sessionsPerWeek`,
 * `exercises[1].sets`), or `at` (the argument's name) when the problem is the whole value.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, at?: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = fieldPath(issue.path) || at;
    throw badInput(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
  }
  return result.data;
}
