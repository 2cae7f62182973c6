import { AsyncLocalStorage } from 'node:async_hooks';
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import type { Database, Queryable } from './db.js';
import { ErrorCode, badInput } from './errors.js';

/**
 * What a mutation is about to write must be something a read can serve: a row whose
 * computed `endDate` lands in year 10001, or an instant no `DateTime` can print, would
 * fail every later read of it (and of every list that holds it). Input checks stop the
 * known cases; this is the net under them, whatever the next bug is.
 *
 * Each Mutation field runs in a scope naming its return type. A transaction opened in
 * that scope checks the value its callback returns against that type before it commits:
 * every leaf field (scalar or enum, or a list of them, with no required argument) is
 * resolved with the subgraph's own resolvers and serialised by its own scalar. A failure
 * rolls the transaction back and reaches the client as BAD_USER_INPUT naming the field.
 *
 * Only resolvers that do not take the context are run (`(p) => p.start_date`,
 * `(p) => endDateOf(p)`): one that does may read, and a read now would see, and its
 * loader cache, the database as it was before this transaction.
 */
interface MutationScope {
  type: GraphQLOutputType;
  resolvers: ResolverMap;
  fieldName: string;
}

/** The subgraph's own resolver map, as written (before Apollo instruments the schema's resolvers). */
type ResolverMap = Record<string, Record<string, unknown> | undefined>;
type PureResolver = (parent: unknown, args: Record<string, unknown>) => unknown;

const scope = new AsyncLocalStorage<MutationScope>();

/** Errors that depend on who asks, not on the row: a read by the right viewer would serve it. */
const VIEWER_CODES = new Set<unknown>([ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE]);

const unservable = (coordinate: string, field: string, reason: string) =>
  badInput(`${coordinate} would be stored as a value no read can serve (${reason}); nothing was written`, field);

function serialiseLeaf(type: GraphQLOutputType, value: unknown, coordinate: string, field: string): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return;
    for (const item of value) serialiseLeaf(nullable.ofType, item, coordinate, field);
    return;
  }
  if (!isLeafType(nullable)) return;
  try {
    nullable.serialize(value);
  } catch (err) {
    throw unservable(coordinate, field, err instanceof Error ? err.message : String(err));
  }
}

const requiresArguments = (field: GraphQLField<unknown, unknown>) => field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);

const defaultArguments = (field: GraphQLField<unknown, unknown>) =>
  Object.fromEntries(field.args.filter((a) => a.defaultValue !== undefined).map((a) => [a.name, a.defaultValue]));

/** Throws BAD_USER_INPUT when `value`, served as `type`, has a leaf field its schema cannot serialise. */
export function assertServable(type: GraphQLOutputType, value: unknown, resolvers: ResolverMap, fieldName: string): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) for (const item of value) assertServable(nullable.ofType, item, resolvers, fieldName);
    return;
  }
  // A transaction may return what the mutation then turns into its answer (an event, for an
  // ID): only a value already of the answer's shape is checked.
  if (isLeafType(nullable)) return typeof value === 'object' ? undefined : serialiseLeaf(nullable, value, nullable.name, fieldName);
  if (!isObjectType(nullable) || typeof value !== 'object') return;
  for (const field of Object.values(nullable.getFields())) {
    if (!isLeafType(getNamedType(field.type)) || requiresArguments(field)) continue;
    const resolve = resolvers[nullable.name]?.[field.name];
    if (resolve !== undefined && (typeof resolve !== 'function' || resolve.length > 2)) continue;
    const coordinate = `${nullable.name}.${field.name}`;
    let served: unknown;
    try {
      served = resolve ? (resolve as PureResolver)(value, defaultArguments(field)) : (value as Record<string, unknown>)[field.name];
      if (served instanceof Promise) served = undefined;
    } catch (err) {
      if (err instanceof GraphQLError && VIEWER_CODES.has(err.extensions.code)) continue;
      throw unservable(coordinate, field.name, err instanceof Error ? err.message : String(err));
    }
    serialiseLeaf(field.type, served, coordinate, field.name);
  }
}

/**
 * Runs every Mutation field of the schema in a scope naming its return type, so that
 * `checkedTransactions` can check what the field's transactions return before they commit.
 */
export function scopeMutations(schema: GraphQLSchema, resolvers: object): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve) continue;
    field.resolve = (source, args, context, info) =>
      scope.run({ type: field.type, resolvers: resolvers as ResolverMap, fieldName: field.name }, () => resolve(source, args, context, info));
  }
  return schema;
}

/**
 * The database a request's store works on: the same database, whose transactions, when a
 * mutation opens them, refuse to commit a result the mutation's own type cannot serve.
 */
export function checkedTransactions(db: Database): Database {
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction(async (tx) => {
      const result = await fn(tx);
      const current = scope.getStore();
      if (current) assertServable(current.type, result, current.resolvers, current.fieldName);
      return result;
    });
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key === 'transaction') return transaction;
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
