// Generated GraphQL requests for the fuzz suite: documents built from a schema (fields with
// arguments, aliases, fragments, variables), the values of their arguments (plausible ones
// from the gym, hostile ones, wrong types), and mutations of both into invalid requests.
// Built with fast-check's `gen()`, so every choice replays from the seed and shrinks toward
// the plainest request (the first choice of each list, no mutation applied).
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

export type G = fc.GeneratorValue;

/** Values a document refers to: ids that exist, days around the platform's today, entity types. */
export interface Pools {
  ids: string[];
  dates: string[];
  emails: string[];
  /** Entity types a subgraph resolves in `_entities` (empty at the gateway). */
  entityTypes: string[];
}

/** A number JSON cannot carry: the body says `1e999` (Infinity once parsed), a document the same literal. */
export class NonFinite {
  constructor(readonly negative: boolean) {}
}

// Uniform choices: fast-check's default bias toward the ends of a range would make a 1% oddity a 10% one.
const index = (max: number) => fc.noBias(fc.nat({ max }));
const permille = () => fc.noBias(fc.nat({ max: 999 }));
export const pick = <T>(g: G, xs: readonly T[]): T => xs[g(index, xs.length - 1)];
/** True with probability p; shrinks toward false, so a shrunk case carries fewer oddities. */
export const chance = (g: G, p: number): boolean => g(permille) >= 1000 * (1 - p);

/**
 * Text an attacker or a careless client sends: NUL, lone surrogates, emoji and combining
 * marks, bidi overrides, SQL, HTML, template and path fragments, numbers as text, big ones.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'Ana\u0000',
  '\uD800',
  '\uDFFF',
  'Ana \uD83D',
  '\uDCA9 Ana',
  '💪',
  '👨‍👩‍👧‍👦🏋️‍♀️',
  'Zoë Ångström',
  'e\u0301\u0301\u0301',
  '\u202Eevil\u202C',
  '\uFEFFbom',
  '\r\n\t',
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  '1; SELECT pg_sleep(5)',
  '$1::uuid',
  '%s%s%s%n',
  '\\',
  '"',
  "'",
  '`',
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '&#0;&lt;',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%00',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '1e999',
  '-0',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  'a'.repeat(5_000),
  '💪'.repeat(3_000),
];

/** UTF-16 code units of every kind, lone surrogates and NUL included. */
const anyUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
);

export function hostileString(g: G): string {
  switch (g(fc.nat, { max: 9 })) {
    case 0:
    case 1:
    case 2:
      return g(fc.string, { unit: anyUnit, maxLength: 24 });
    case 3:
      // Huge: far more than any field wants, within the body limit.
      return pick(g, ['x', '💪', '\u00e9', ' ']).repeat(g(fc.integer, { min: 10_000, max: 200_000 }));
    default:
      return pick(g, HOSTILE_STRINGS);
  }
}

const HOSTILE_NUMBERS: readonly number[] = [0, -0, -1, 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 0.1, 1.5];

/** Any JSON value of the wrong kind: primitives, non-finite numbers, deep or wide lists and objects. */
export function wrongValue(g: G): unknown {
  switch (g(fc.nat, { max: 8 })) {
    case 0:
      return null;
    case 1:
      return pick(g, HOSTILE_NUMBERS);
    case 2:
      return new NonFinite(chance(g, 0.5));
    case 3:
      return chance(g, 0.5);
    case 4:
      return hostileString(g);
    case 5: {
      // deep list
      let v: unknown = pick(g, [1, 'x', null]);
      for (let i = g(fc.integer, { min: 2, max: 3_000 }); i > 0; i--) v = [v];
      return v;
    }
    case 6: {
      // deep object
      let v: unknown = { id: 'x' };
      for (let i = g(fc.integer, { min: 2, max: 2_000 }); i > 0; i--) v = { a: v };
      return v;
    }
    case 7:
      // wide list
      return Array.from({ length: g(fc.integer, { min: 100, max: 20_000 }) }, (_, i) => i);
    default:
      // wide object
      return Object.fromEntries(Array.from({ length: g(fc.integer, { min: 50, max: 5_000 }) }, (_, i) => [`k${i}`, i]));
  }
}

const TIMES = ['07:00', '08:00', '14:00', '15:00', '09:30', '23:59', '00:00', '24:00', '25:61', '7:00', '14:00:00', '14:00:00.123', '14:00Z', '2pm'];
const DATE_TIMES = (p: Pools) => [
  `${p.dates[0]}T08:00:00Z`,
  `${p.dates[1] ?? p.dates[0]}T12:00:00.000Z`,
  `${p.dates[0]}T06:00:00+02:00`,
  '0001-01-01T00:00:00Z',
  '1899-12-31T23:59:59Z',
  '1900-01-01T00:00:00Z',
  '2100-12-31T23:59:59Z',
  '2101-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2027-01-31',
  '2027-01-31T25:00:00Z',
  'yesterday',
];
const BAD_DATES = [
  '1899-12-31',
  '1900-01-01',
  '2100-12-31',
  '2101-01-01',
  '9999-12-01',
  '0001-01-01',
  '2027-02-30',
  '2027-13-01',
  '27-1-1',
  '2027-01-31T00:00:00Z',
  '',
];

/** A value for an input of this type: mostly plausible (ids that exist, dates near today), sometimes hostile or of another type. */
export function valueFor(g: G, type: GraphQLInputType, p: Pools, depth = 0): unknown {
  if (chance(g, 0.03)) return wrongValue(g);
  if (isNonNullType(type)) return chance(g, 0.01) ? null : valueFor(g, type.ofType, p, depth);
  if (chance(g, 0.03)) return null;
  if (isListType(type)) {
    if (chance(g, 0.1)) return valueFor(g, type.ofType, p, depth + 1); // a single item, as GraphQL coerces it
    return Array.from({ length: g(fc.nat, { max: 3 }) }, () => valueFor(g, type.ofType, p, depth + 1));
  }
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      const required = isNonNullType(field.type) && field.defaultValue === undefined;
      if ((required && !chance(g, 0.015)) || (depth < 3 && chance(g, 0.5))) out[field.name] = valueFor(g, field.type, p, depth + 1);
    }
    if (chance(g, 0.02)) out[pick(g, ['bogus', '__proto__', 'id', 'constructor'])] = hostileString(g);
    return out;
  }
  if (isEnumType(type)) return chance(g, 0.96) ? pick(g, type.getValues()).value : pick(g, ['bogus', 'client', '', 'ADMIN ', 'null']);
  switch (type.name) {
    case 'ID':
      return chance(g, 0.7) ? pick(g, p.ids) : chance(g, 0.5) ? g(fc.uuid) : hostileString(g);
    case 'String':
      return chance(g, 0.4) ? pick(g, [...p.emails, 'fitsync-demo', 'Strength block', 'Felt great']) : hostileString(g);
    case 'Int':
      return chance(g, 0.7) ? g(fc.integer, { min: -2, max: 120 }) : pick(g, HOSTILE_NUMBERS);
    case 'Float':
      return chance(g, 0.6) ? g(fc.double, { min: -5, max: 300, noNaN: true }) : chance(g, 0.2) ? new NonFinite(chance(g, 0.5)) : pick(g, HOSTILE_NUMBERS);
    case 'Boolean':
      return chance(g, 0.5);
    case 'Date':
      return chance(g, 0.75) ? pick(g, p.dates) : pick(g, BAD_DATES);
    case 'Time':
      return pick(g, TIMES);
    case 'DateTime':
      return pick(g, DATE_TIMES(p));
    case '_Any':
      return representation(g, p);
    default:
      return hostileString(g);
  }
}

/** An entity representation a subgraph's `_entities` gets: a known type and id, or anything. */
function representation(g: G, p: Pools): unknown {
  if (chance(g, 0.15) || p.entityTypes.length === 0) return wrongValue(g);
  const rep: Record<string, unknown> = { __typename: chance(g, 0.9) ? pick(g, p.entityTypes) : hostileString(g) };
  if (chance(g, 0.95)) rep.id = chance(g, 0.8) ? pick(g, p.ids) : hostileString(g);
  if (chance(g, 0.5)) rep.trainerIds = chance(g, 0.8) ? Array.from({ length: g(fc.nat, { max: 2 }) }, () => pick(g, p.ids)) : wrongValue(g);
  if (chance(g, 0.1)) rep.extra = wrongValue(g);
  return rep;
}

/** A JS value as a GraphQL literal; strings in GraphQL's (JSON-compatible) escapes, enums bare when the type says so. */
export function literal(value: unknown, type?: GraphQLInputType): string {
  const named = type ? getNamedType(type) : undefined;
  if (value instanceof NonFinite) return value.negative ? '-1e999' : '1e999';
  const deep = deepChain(value);
  if (deep)
    return deep.list
      ? `${'['.repeat(deep.depth)}${literal(deep.inner)}${']'.repeat(deep.depth)}`
      : `${'{a: '.repeat(deep.depth)}${literal(deep.inner)}${'}'.repeat(deep.depth)}`;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return named && isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '1e999';
  if (typeof value === 'boolean') return String(value);
  const inner = type && (isNonNullType(type) ? type.ofType : type);
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, inner && isListType(inner) ? inner.ofType : inner)).join(', ')}]`;
  const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad_key'}: ${literal(v, fields[k]?.type)}`)
    .join(', ')}}`;
}

/** A long chain of one-element lists or one-key objects (`wrongValue`'s deep values), written without recursing once per level. */
function deepChain(value: unknown): { list: boolean; depth: number; inner: unknown } | undefined {
  let depth = 0;
  let inner = value;
  const list = Array.isArray(value);
  for (;;) {
    if (list && Array.isArray(inner) && inner.length === 1) inner = inner[0];
    else if (!list && inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 1 && 'a' in inner) inner = inner.a;
    else break;
    depth++;
  }
  return depth < 50 ? undefined : { list, depth, inner };
}

/** Request bodies as JSON, with `NonFinite` written as `1e999` (which JSON.parse reads as Infinity). */
export function toJson(value: unknown): string {
  if (value instanceof NonFinite) return value.negative ? '-1e999' : '1e999';
  const deep = deepChain(value);
  if (deep)
    return deep.list
      ? `${'['.repeat(deep.depth)}${toJson(deep.inner)}${']'.repeat(deep.depth)}`
      : `${'{"a":'.repeat(deep.depth)}${toJson(deep.inner)}${'}'.repeat(deep.depth)}`;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface GeneratedOperation {
  query: string;
  variables: Record<string, unknown>;
  operationName?: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** Response keys of the root fields, in order. */
  rootKeys: string[];
  /** What was done to make it invalid, if anything. */
  mutation?: string;
}

interface Build {
  g: G;
  schema: GraphQLSchema;
  pools: Pools;
  maxDepth: number;
  vars: string[];
  variables: Record<string, unknown>;
  fragments: string[];
  n: number;
}

function argument(b: Build, arg: GraphQLArgument): string {
  const { g } = b;
  const value = valueFor(g, arg.type, b.pools);
  if (chance(g, 0.5)) {
    const name = `v${b.vars.length}`;
    // Mostly the argument's own type; sometimes another (a validation error), or the nullable form of a required one.
    const declared = chance(g, 0.03)
      ? pick(g, ['String', 'Int!', '[ID!]!', 'Boolean', 'Nope', 'DateTime', 'ID'])
      : chance(g, 0.02) && isNonNullType(arg.type)
        ? String(arg.type.ofType)
        : String(arg.type);
    b.vars.push(`$${name}: ${declared}`);
    if (!chance(g, 0.02)) b.variables[name] = value; // sometimes declared and never given
    return `${arg.name}: $${name}`;
  }
  return `${arg.name}: ${literal(value, arg.type)}`;
}

function field(b: Build, f: GraphQLField<unknown, unknown>, depth: number): string {
  const { g } = b;
  const alias = chance(g, 0.15) ? `a${b.n++}: ` : '';
  const args = f.args.filter((a) => (isNonNullType(a.type) && a.defaultValue === undefined ? !chance(g, 0.015) : chance(g, 0.4))).map((a) => argument(b, a));
  if (chance(g, 0.01)) args.push(`${pick(g, ['bogus', 'first', 'id'])}: ${literal(wrongValue(g))}`);
  const named = getNamedType(f.type);
  const sel = isCompositeType(named) ? ` ${selection(b, named, depth + 1)}` : chance(g, 0.002) ? ' { id }' : '';
  return `${alias}${f.name}${args.length ? `(${args.join(', ')})` : ''}${sel}`;
}

function selection(b: Build, type: GraphQLCompositeType, depth: number): string {
  const { g } = b;
  if (isUnionType(type) || isInterfaceType(type)) {
    const possible = b.schema.getPossibleTypes(type);
    const parts = ['__typename'];
    for (let i = g(fc.nat, { max: Math.min(2, possible.length) }); i > 0; i--)
      parts.push(`... on ${pick(g, possible).name} ${selection(b, pick(g, possible), depth)}`);
    return `{ ${parts.join(' ')} }`;
  }
  const fields = Object.values(type.getFields());
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
  const choices = depth >= b.maxDepth && leaves.length > 0 ? leaves : fields;
  const parts: string[] = [];
  // Distinct fields: the same field twice with other arguments is a conflict (a validation error, not an interesting one).
  const chosen = new Set<GraphQLField<unknown, unknown>>();
  for (let i = g(fc.integer, { min: 1, max: Math.min(4, choices.length) }); i > 0; i--) chosen.add(pick(g, choices));
  for (const f of chosen) parts.push(field(b, f, depth));
  if (chance(g, 0.1)) parts.push('__typename');
  if (chance(g, 0.08) && depth < b.maxDepth) {
    const name = `F${b.n++}`;
    b.fragments.push(`fragment ${name} on ${type.name} ${selection(b, type, depth + 1)}`);
    parts.push(`...${name}`);
  }
  if (chance(g, 0.05)) parts.push(`... on ${type.name} { __typename }`);
  if (chance(g, 0.03))
    parts.push(`${pick(g, ['__typename', 'id'])} ${pick(g, ['@include(if: true)', '@skip(if: false)', '@include(if: $nope)', '@bogus', '@defer'])}`);
  return `{ ${parts.join(' ')} }`;
}

/** Ways to break a document: each a small edit an unlucky client (or a fuzzer) makes. */
const BREAKAGES: readonly ((g: G, doc: string) => string)[] = [
  (g, d) => d.slice(0, g(fc.nat, { max: Math.max(0, d.length - 1) })), // truncated
  (g, d) => {
    const at = g(fc.nat, { max: d.length });
    return (
      d.slice(0, at) + pick(g, ['{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '...', '"', '\\', '#', '\u0000', '\uD800', '💪', ' on ', '=']) + d.slice(at)
    );
  },
  (_g, d) => d.replace(/\{ (\w+)/, '{ nope_$1'), // unknown field
  (_g, d) => `${d}\n${d}`, // the same operation twice
  (_g, d) => d.replace(/^(query|mutation|subscription)\b/, 'subscription'),
  (g, d) => d.replace(/\)/, `, ${pick(g, ['first', 'id', 'input'])}: 1)`), // duplicate or unknown argument
  (g, d) => `${d} fragment X on ${pick(g, ['User', 'Nope', 'Query'])} { id }`,
  (g, d) => d.replaceAll(/\$v(\d+)/g, (m, n) => (chance(g, 0.5) ? `$w${n}` : m)), // undeclared variables
];

/**
 * A request built from `schema`: one operation (query mostly, mutation, a subscription
 * now and then) of 1-3 root fields with arguments, aliases, fragments and variables;
 * with probability `breakRate` also broken (syntax, unknown field, duplicated, ...).
 */
export function generateOperation(
  g: G,
  schema: GraphQLSchema,
  pools: Pools,
  opts: { kinds?: GeneratedOperation['kind'][]; maxRootFields?: number; maxDepth?: number; breakRate?: number } = {},
): GeneratedOperation {
  const kinds = (opts.kinds ?? ['query', 'query', 'query', 'mutation', 'subscription']).filter((k) => rootType(schema, k));
  const kind = pick(g, kinds);
  const root = rootType(schema, kind)!;
  const b: Build = { g, schema, pools, maxDepth: opts.maxDepth ?? 4, vars: [], variables: {}, fragments: [], n: 0 };
  const fields = Object.values(root.getFields());
  const rootKeys: string[] = [];
  const parts: string[] = [];
  const chosen = new Set<GraphQLField<unknown, unknown>>();
  // A subscription selects one root field.
  for (let i = kind === 'subscription' ? 1 : g(fc.integer, { min: 1, max: opts.maxRootFields ?? 3 }); i > 0; i--) chosen.add(pick(g, fields));
  for (const f of chosen) {
    const text = field(b, f, 1);
    parts.push(text);
    rootKeys.push(/^(\w+)/.exec(text)![1]);
  }
  const operationName = chance(g, 0.3) ? `Fuzz${g(fc.nat, { max: 99 })}` : undefined;
  const header = `${kind}${operationName ? ` ${operationName}` : ''}${b.vars.length ? `(${b.vars.join(', ')})` : ''}`;
  let query = [`${header} { ${parts.join(' ')} }`, ...b.fragments].join('\n');
  let mutation: string | undefined;
  if (chance(g, opts.breakRate ?? 0.15)) {
    const i = g(fc.nat, { max: BREAKAGES.length - 1 });
    query = BREAKAGES[i](g, query);
    mutation = `breakage ${i}`;
  }
  const sentName = chance(g, 0.05) ? pick(g, ['', 'Nope', 'Fuzz0']) : operationName;
  return { query, variables: b.variables, ...(sentName === undefined ? {} : { operationName: sentName }), kind, rootKeys, ...(mutation ? { mutation } : {}) };
}

function rootType(schema: GraphQLSchema, kind: GeneratedOperation['kind']): GraphQLObjectType | null | undefined {
  return kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
}

/** The types a subgraph's `_entities` can answer (members of its `_Entity` union). */
export function entityTypes(schema: GraphQLSchema): string[] {
  const entity = schema.getType('_Entity');
  return entity && isUnionType(entity) ? entity.getTypes().map((t) => t.name) : [];
}
