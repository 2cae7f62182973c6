// The fuzz properties, run against a started platform: by the bounded suite in
// tests/fuzz.test.ts (part of `npm test`) and by the long run, `npm run fuzz` (scripts/fuzz.ts).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { buildSubgraphSchema } from '@apollo/subgraph';
import fc from 'fast-check';
import { buildSchema, getNamedType, isCompositeType, isLeafType, isNonNullType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { DEMO_LOGINS, type Gym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { SERVICE_TOKEN_HEADER, SUBGRAPHS, createServiceCredentials, type Database, type SubgraphName } from '@fitsync/service-kit';
import { localDate } from '@fitsync/service-kit/clock';
import { TEST_SERVICE_SECRET, testToken } from '@fitsync/service-kit/testing';
import { ALL_SUBGRAPHS } from '../../../scripts/subgraphs.js';
import type { Platform } from '../platform.js';
import { chance, entityTypes, generateOperation, pick, toJson, type G, type GeneratedOperation, type Pools } from './documents.js';
import { answerProblems, leaksIn, sendRaw, type Answer, type Finding, type RawRequest } from './oracle.js';

export const PROPERTIES = ['gateway documents', 'subgraph documents', 'mutations', 'raw requests'] as const;
export type PropertyName = (typeof PROPERTIES)[number];

/** Share of FUZZ_RUNS each property gets (mutations are slower: two snapshots and a read-back each). */
const WEIGHT: Record<PropertyName, number> = { 'gateway documents': 1, 'subgraph documents': 1, mutations: 0.4, 'raw requests': 1 };

interface Viewer {
  label: string;
  authorization?: string;
}

/** Mostly someone the platform knows; one case in six a token it must refuse. */
const anyViewer = (s: FuzzSetup, g: G): Viewer => (chance(g, 0.17) ? pick(g, s.viewers.slice(5)) : pick(g, s.viewers.slice(0, 5)));

export interface FuzzSetup {
  platform: Platform;
  /** A second gateway with NODE_ENV=production (no landing page, no introspection, /ready and /metrics closed). */
  production: RunningGateway;
  gatewaySchema: GraphQLSchema;
  subgraphSchemas: Record<SubgraphName, GraphQLSchema>;
  pools: Pools;
  subgraphPools: Record<SubgraphName, Pools>;
  viewers: Viewer[];
  admin: Viewer;
  client: Viewer & { id: string };
  serviceToken(): Promise<string>;
  /** Everything an admin can read about every user, to show that what was written reads back. */
  readback: string;
}

export interface FuzzFinding extends Finding {
  property: PropertyName;
  request: string;
}

/** Starts what the properties need on top of a platform: the production gateway, schemas, ids, tokens. */
export async function prepareFuzz(platform: Platform, gym: Gym): Promise<FuzzSetup> {
  const production = await platform.startGateway({}, { NODE_ENV: 'production' });
  const gatewaySchema = buildSchema(readFileSync(new URL('../../../api-schema.graphql', import.meta.url), 'utf8'));
  const subgraphSchemas = Object.fromEntries(SUBGRAPHS.map((n) => [n, buildSubgraphSchema({ typeDefs: ALL_SUBGRAPHS[n].definition.typeDefs })])) as Record<
    SubgraphName,
    GraphQLSchema
  >;
  const today = localDate(platform.clock());
  const day = (offset: number) => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
  const ids = [gym.gymId, ...Object.values(gym).flatMap((v: unknown) => (Array.isArray(v) ? v.map((x: { id: string }) => x.id) : []))];
  const pools: Pools = {
    ids,
    dates: [today, day(1), day(2), day(7), day(-1), day(-30), day(30)],
    emails: [...Object.values(DEMO_LOGINS), 'new-client@fitsync.test'],
    entityTypes: [],
  };
  const subgraphPools = Object.fromEntries(SUBGRAPHS.map((n) => [n, { ...pools, entityTypes: entityTypes(subgraphSchemas[n]) }])) as Record<
    SubgraphName,
    Pools
  >;
  const user = (email: string) => gym.users.find((u) => u.email === email)!;
  const bearer = async (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => `Bearer ${await platform.tokenFor(u)}`;
  const clientUser = user(DEMO_LOGINS.client);
  const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== clientUser.id)!;
  const admin = { label: 'admin', authorization: await bearer(user(DEMO_LOGINS.admin)) };
  const client = { label: 'client', authorization: await bearer(clientUser), id: clientUser.id };
  const viewers: Viewer[] = [
    { label: 'anonymous' },
    client,
    { label: 'trainer', authorization: await bearer(user(DEMO_LOGINS.trainer)) },
    admin,
    { label: 'another client', authorization: await bearer(otherClient) },
    // Signed with the right secret, but naming no one who exists, or no UUID, or no role we know.
    { label: 'admin who does not exist', authorization: await bearer({ id: '00000000-0000-4000-8000-000000000000', role: 'ADMIN' }) },
    { label: 'non-UUID subject', authorization: `Bearer ${await testToken({ id: 'not-a-uuid', role: 'CLIENT' }, platform.clock)}` },
    { label: 'unknown role', authorization: `Bearer ${await testToken({ id: clientUser.id, role: 'ROOT' as 'ADMIN' }, platform.clock)}` },
    { label: 'garbage token', authorization: 'Bearer abc.def.ghi' },
    { label: 'basic auth', authorization: 'Basic Zm9vOmJhcg==' },
  ];
  const credentials = createServiceCredentials('gateway', TEST_SERVICE_SECRET);
  const user_ = gatewaySchema.getType('User') as GraphQLObjectType;
  const readback = `{ users(first: 100) { totalCount edges { node ${everything(user_, 2)} } } }`;
  return {
    platform,
    production,
    gatewaySchema,
    subgraphSchemas,
    pools,
    subgraphPools,
    viewers,
    admin,
    client,
    serviceToken: () => credentials.token(),
    readback,
  };
}

/** Every field of `type` that needs no argument, `depth` levels down. */
function everything(type: GraphQLObjectType, depth: number): string {
  const parts = Object.values(type.getFields())
    .filter((f) => f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined))
    .flatMap((f) => {
      const named = getNamedType(f.type);
      if (isLeafType(named)) return [f.name];
      if (depth > 0 && isObjectType(named)) return [`${f.name} ${everything(named, depth - 1)}`];
      if (isCompositeType(named)) return [`${f.name} { __typename }`];
      return [];
    });
  return `{ ${parts.join(' ')} }`;
}

// ---------- snapshots: nothing written by a request that failed ----------

type Digest = Map<string, string>;

/** A digest (row count and md5 of the rows) of every table of every subgraph. */
async function digest(databases: Record<SubgraphName, Database>): Promise<Digest> {
  const out: Digest = new Map();
  for (const name of SUBGRAPHS) {
    const db = databases[name];
    const tables = await db.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    for (const { t } of tables) {
      const [row] = await db.query<{ n: number; h: string | null }>(
        `SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM "${t}" x`,
      );
      out.set(`${name}.${t}`, `${row.n}:${row.h ?? ''}`);
    }
  }
  return out;
}

const changed = (before: Digest, after: Digest) => [...after.keys()].filter((k) => before.get(k) !== after.get(k));

// ---------- sending ----------

const MAX_SHOWN = 600;
const show = (s: string) => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}… (${s.length} chars)` : s);

type Door = { kind: 'gateway'; url: string; production: boolean } | { kind: 'subgraph'; name: SubgraphName; url: string };

async function postOperation(s: FuzzSetup, door: Door, op: Pick<GeneratedOperation, 'query' | 'variables' | 'operationName'>, viewer: Viewer): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (viewer.authorization) headers.authorization = viewer.authorization;
  if (door.kind === 'subgraph') headers[SERVICE_TOKEN_HEADER] = await s.serviceToken();
  const body = toJson({ query: op.query, variables: op.variables, ...(op.operationName === undefined ? {} : { operationName: op.operationName }) });
  return sendRaw({ url: door.url, method: 'POST', headers, body: Buffer.from(body) });
}

/** Whether every root field of a (mutation) answer failed: then nothing may have been written. */
function failedEntirely(a: Answer, op: GeneratedOperation): boolean {
  const data = a.json?.data;
  if (a.status >= 400 || data == null) return true;
  return op.rootKeys.every((k) => data[k] == null);
}

/**
 * Sends one generated operation and checks its answer; a mutation is sent between two
 * snapshots of every table (after the platform settled its events): when it failed
 * nothing may differ, when it succeeded everything must still read back.
 */
async function exercise(s: FuzzSetup, door: Door, op: GeneratedOperation, viewer: Viewer): Promise<Outcome> {
  // One root field: with several, a later one failing nulls all of `data` while an earlier one may have written, as it should.
  const isMutation = op.kind === 'mutation' && !op.mutation && op.rootKeys.length === 1;
  let before: Digest | undefined;
  if (isMutation) {
    await s.platform.settle();
    before = await digest(s.platform.databases);
  }
  const answer = await postOperation(s, door, op, viewer);
  const findings = answerProblems(answer);
  let outcome = outcomeOf(answer);
  if (before) {
    await s.platform.settle();
    const after = await digest(s.platform.databases);
    const diff = changed(before, after);
    if (failedEntirely(answer, op)) {
      if (diff.length) findings.push({ kind: 'written by a failed mutation', detail: `${diff.join(', ')}; answer ${show(answer.text)}` });
    } else if (diff.length > 0) {
      outcome = 'wrote';
      findings.push(...(await readBack(s)));
    }
  }
  return { findings, outcome };
}

interface Outcome {
  findings: Finding[];
  /** What the answer was, for the counts a run reports: `200 data`, `400 GRAPHQL_VALIDATION_FAILED`, `wrote`, ... */
  outcome: string;
}

function outcomeOf(a: Answer): string {
  const code = a.json?.errors?.[0]?.extensions?.code;
  const data = a.json?.data != null && Object.values(a.json.data).some((v) => v != null);
  return `${a.status} ${data ? 'data' : ''}${data && code ? ' + ' : ''}${code ?? (data ? '' : 'no data')}`.trim();
}

/** What was written reads back: an admin's read of every user and all their data, and the client's dashboard. */
async function readBack(s: FuzzSetup): Promise<Finding[]> {
  const gateway: Door = { kind: 'gateway', url: s.platform.gatewayUrl, production: false };
  const dashboard = readFileSync(new URL('../../../operations/ClientDashboard.graphql', import.meta.url), 'utf8');
  const reads = [
    await postOperation(s, gateway, { query: s.readback, variables: {} }, s.admin),
    await postOperation(s, gateway, { query: dashboard, variables: {} }, s.client),
  ];
  return reads.flatMap((a) => answerProblems(a).map((f) => ({ kind: `read after a write: ${f.kind}`, detail: f.detail })));
}

function describeOp(door: Door, op: GeneratedOperation, viewer: Viewer): string {
  const where = door.kind === 'gateway' ? `gateway${door.production ? ' (production)' : ''}` : `${door.name} subgraph`;
  return `${where} as ${viewer.label}${op.mutation ? ` [${op.mutation}]` : ''}: ${show(JSON.stringify({ query: op.query, operationName: op.operationName }))} variables ${show(toJson(op.variables))}`;
}

// ---------- the properties ----------

type Check = (s: FuzzSetup, g: G) => Promise<Outcome & { request: string }>;

const gatewayDoor = (s: FuzzSetup, g: G): Door =>
  chance(g, 0.2) ? { kind: 'gateway', url: s.production.url, production: true } : { kind: 'gateway', url: s.platform.gatewayUrl, production: false };

const CHECKS: Record<PropertyName, Check> = {
  // Documents from the API schema, with their variables, at the gateway.
  async 'gateway documents'(s, g) {
    const door = gatewayDoor(s, g);
    const op = generateOperation(g, s.gatewaySchema, s.pools);
    const viewer = anyViewer(s, g);
    return { request: describeOp(door, op, viewer), ...(await exercise(s, door, op, viewer)) };
  },
  // Documents from each subgraph's own schema (_entities and _service included), sent with a service credential.
  async 'subgraph documents'(s, g) {
    const name = pick(g, SUBGRAPHS);
    const door: Door = { kind: 'subgraph', name, url: s.platform.subgraphs[name].url };
    const op = generateOperation(g, s.subgraphSchemas[name], s.subgraphPools[name], { kinds: ['query', 'query', 'mutation'] });
    const viewer = anyViewer(s, g);
    return { request: describeOp(door, op, viewer), ...(await exercise(s, door, op, viewer)) };
  },
  // One mutation field at a time, mostly well-formed, so that many get far enough to write.
  async mutations(s, g) {
    const door: Door = { kind: 'gateway', url: s.platform.gatewayUrl, production: false };
    const op = generateOperation(g, s.gatewaySchema, s.pools, { kinds: ['mutation'], maxRootFields: 1, breakRate: 0 });
    const viewer = pick(g, s.viewers.slice(0, 5));
    return { request: describeOp(door, op, viewer), ...(await exercise(s, door, op, viewer)) };
  },
  // Raw HTTP: methods, paths and query strings, content types, charsets, encodings, broken and odd bodies.
  async 'raw requests'(s, g) {
    const raw = await rawRequest(s, g);
    let answer: Answer;
    try {
      answer = await sendRaw(raw.req);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Node refuses to send some header values itself; a server that hangs up on a body over its limit is fine.
      if (/Invalid character|ERR_INVALID/i.test(message) || ((raw.req.body?.length ?? 0) > 1_000_000 && /ECONNRESET|EPIPE|socket hang up/.test(message))) {
        return { request: raw.note, findings: [], outcome: 'not sent' };
      }
      return { request: raw.note, findings: [{ kind: 'no answer', detail: message }], outcome: 'no answer' };
    }
    return { request: raw.note, findings: raw.check(answer), outcome: `${answer.status}` };
  },
};

const PATHS = [
  '/graphql',
  '/graphql',
  '/graphql',
  '/graphql/',
  '/graphql?x=1',
  '//graphql',
  '/GRAPHQL',
  '/graphql%00',
  '/graphql/..',
  '/health',
  '/ready',
  '/metrics',
  '/',
  '/.env',
  '/graphql;a=b',
];
const METHODS = ['POST', 'POST', 'POST', 'GET', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=klingon',
  'application/json;;;',
  'text/plain',
  'application/graphql',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  '*/*',
  '',
];
const ACCEPTS = [
  'application/json',
  'application/graphql-response+json',
  'text/event-stream',
  'multipart/mixed; deferSpec=20220824',
  'text/html',
  '*/*',
  'application/xml',
  'garbage;;q=x',
];
const ENCODINGS = ['gzip', 'deflate', 'br', 'x-squash', 'gzip, gzip', 'identity', 'gzip, identity'];
const ODD_BODIES = [
  'null',
  '"x"',
  '1e999',
  '[]',
  '{}',
  'true',
  '{"query": 1}',
  '{"query": null}',
  '{"query": ""}',
  '{"query": ["{ __typename }"]}',
  '{"query": "{ __typename }", "variables": "[]"}',
  '{"query": "{ __typename }", "variables": [1]}',
  '{"query": "{ __typename }", "variables": {"a": 1e999}}',
  '{"query": "{ __typename }", "operationName": 5}',
  '{"query": "{ __typename }", "extensions": "x"}',
  '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
  '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0000000000000000000000000000000000000000000000000000000000000000"}}}',
  '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 2}}}',
  '{"query": "{ __typename }", "__proto__": {"polluted": true}}',
  '{"query": "{ me { id } }", "query": "{ __typename }"}',
  '{"query": "{ __typename }", "variables": {"__proto__": {"x": 1}}}',
  '{"query": "query($a: Int) { __typename }", "variables": {"a": 9007199254740993}}',
  '{"query": "subscription { notificationAdded { id } }"}',
  '{"query": "{ _service { sdl } }"}',
  '{"query": "{ _entities(representations: [{__typename: \\"User\\", id: \\"x\\"}]) { __typename } }"}',
  '{"query": "{ __schema { types { name } } }"}',
  '{"query": "{ __typename }"',
  '\uFEFF{"query": "{ __typename }"}',
];

interface RawCase {
  req: RawRequest;
  note: string;
  check(a: Answer): Finding[];
}

async function rawRequest(s: FuzzSetup, g: G): Promise<RawCase> {
  const targets = ['gateway', 'production gateway', ...SUBGRAPHS] as const;
  const target = pick(g, targets);
  const subgraph = target !== 'gateway' && target !== 'production gateway' ? target : undefined;
  const base = target === 'gateway' ? s.platform.gatewayUrl : target === 'production gateway' ? s.production.url : s.platform.subgraphs[target].url;
  const origin = new URL(base).origin;
  const method = pick(g, METHODS);
  let path = pick(g, PATHS);
  const headers: Record<string, string> = {};
  const contentType = pick(g, CONTENT_TYPES);
  if (contentType && chance(g, 0.9)) headers['content-type'] = contentType;
  if (chance(g, 0.5)) headers.accept = pick(g, ACCEPTS);
  const viewer = anyViewer(s, g);
  if (viewer.authorization) headers.authorization = viewer.authorization;
  if (subgraph && chance(g, 0.8)) headers[SERVICE_TOKEN_HEADER] = chance(g, 0.9) ? await s.serviceToken() : 'garbage';
  if (chance(g, 0.3)) headers['apollo-require-preflight'] = 'true';
  if (chance(g, 0.1)) headers['x-correlation-id'] = pick(g, ['fuzz-1', 'x'.repeat(300), 'has spaces', '../../etc', '<b>', '']);
  if (chance(g, 0.02)) headers['x-pad'] = 'a'.repeat(g(fc.integer, { min: 1_000, max: 40_000 }));

  const schema = subgraph ? s.subgraphSchemas[subgraph] : s.gatewaySchema;
  const pools = subgraph ? s.subgraphPools[subgraph] : s.pools;
  const op = () => generateOperation(g, schema, pools, { breakRate: 0.2 });
  const opBody = (o: GeneratedOperation) => ({
    query: o.query,
    variables: o.variables,
    ...(o.operationName === undefined ? {} : { operationName: o.operationName }),
  });

  let body: Buffer | undefined;
  let bodyKind: string;
  const kind = g(fc.nat, { max: 12 });
  switch (kind) {
    case 0:
    case 1:
      bodyKind = 'operation';
      body = Buffer.from(toJson(opBody(op())));
      break;
    case 2:
      bodyKind = 'batch';
      body = Buffer.from(toJson(Array.from({ length: g(fc.integer, { min: 0, max: 3 }) }, () => opBody(op()))));
      break;
    case 3: {
      bodyKind = 'truncated JSON';
      const text = toJson(opBody(op()));
      body = Buffer.from(text.slice(0, g(fc.nat, { max: text.length - 1 })));
      break;
    }
    case 4:
      bodyKind = 'odd JSON';
      body = Buffer.from(pick(g, ODD_BODIES));
      break;
    case 5:
      bodyKind = 'random bytes';
      body = Buffer.from(g(fc.uint8Array, { maxLength: 300 }));
      break;
    case 6:
      bodyKind = 'invalid UTF-8 in a string';
      body = Buffer.concat([
        Buffer.from('{"query": "{ me { id } }", "variables": {"x": "'),
        Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]),
        Buffer.from('"}}'),
      ]);
      break;
    case 7:
      bodyKind = 'UTF-16 body';
      body = Buffer.from(toJson(opBody(op())), 'utf16le');
      break;
    case 8:
      bodyKind = 'latin1 body';
      body = Buffer.from('{"query": "{ __typename }", "variables": {"name": "Zoë"}}', 'latin1');
      break;
    case 9:
      bodyKind = 'over the limit';
      body = Buffer.from(toJson({ query: '{ __typename }', variables: { pad: 'x'.repeat(pick(g, [1_100_000, 6_000_000])) } }));
      break;
    case 10: {
      bodyKind = 'deep nesting';
      const depth = g(fc.integer, { min: 1_000, max: 200_000 });
      body = Buffer.from(
        chance(g, 0.5)
          ? `${'['.repeat(depth)}${']'.repeat(depth)}`
          : `{"query": "{ __typename }", "variables": {"v": ${'['.repeat(depth)}${']'.repeat(depth)}}}`,
      );
      break;
    }
    case 11:
      bodyKind = 'empty';
      body = chance(g, 0.5) ? Buffer.alloc(0) : undefined;
      break;
    default:
      bodyKind = 'form';
      body = Buffer.from(`query=${encodeURIComponent(op().query)}`);
  }
  if (method === 'GET' || method === 'HEAD') {
    if (path.startsWith('/graphql') && chance(g, 0.8)) {
      const o = op();
      const params = new URLSearchParams({ query: o.query });
      if (chance(g, 0.7)) params.set('variables', chance(g, 0.8) ? toJson(o.variables) : pick(g, ['{', '[]', 'null', '1e999']));
      if (o.operationName !== undefined) params.set('operationName', o.operationName);
      if (chance(g, 0.1)) params.set('extensions', pick(g, ['{', '{"persistedQuery":{"version":1,"sha256Hash":"x"}}']));
      const qs = params.toString();
      path = `/graphql?${qs.length > 6_000 ? qs.slice(0, 6_000) : qs}`;
    }
    if (!chance(g, 0.1)) body = undefined;
  }
  let encoding: string | undefined;
  if (body && chance(g, 0.15)) {
    encoding = pick(g, ENCODINGS);
    headers['content-encoding'] = encoding;
    const compress = !chance(g, 0.2);
    if (compress && chance(g, 0.1)) {
      bodyKind = 'compression bomb';
      body = Buffer.from(`{"query": "{ __typename }", "variables": {"pad": "${'0'.repeat(30_000_000)}"}}`);
    }
    if (compress && encoding.startsWith('gzip')) body = gzipSync(body);
    else if (compress && encoding === 'deflate') body = deflateSync(body);
    else if (compress && encoding === 'br') body = brotliCompressSync(body);
  }
  if (body && chance(g, 0.1)) headers['transfer-encoding'] = 'chunked';
  else if (body) headers['content-length'] = String(body.length);

  const route = path.split('?', 1)[0];
  const note = `${method} ${target} ${show(path)} as ${viewer.label}, headers ${show(JSON.stringify({ ...headers, authorization: undefined, [SERVICE_TOKEN_HEADER]: undefined }))}, body ${bodyKind} ${body ? show(body.toString('utf8', 0, 2_000)) : '(none)'}`;
  return {
    req: { url: `${origin}${path}`, method, headers, body },
    note,
    check(a) {
      // Outside production /ready and /metrics are open and name the subgraphs' addresses (README: Configuration).
      const openInsides = target !== 'production gateway' && (route === '/ready' || route === '/metrics');
      const found = openInsides ? [] : leaksIn(a.text);
      if (a.status >= 500 && !(route === '/ready' && a.status === 503)) found.push({ kind: `HTTP ${a.status}`, detail: a.text.slice(0, 300) });
      const graphql = /^\/graphql\/?$/i.test(route);
      if (!graphql || method === 'HEAD' || method === 'OPTIONS') return found;
      // Node's own parser answers an oversized header block before any handler: a bare 431.
      if (a.status === 431 && a.text === '') return found;
      const stream = a.status === 200 && /text\/event-stream/.test(a.contentType);
      const landingPage = target === 'gateway' && a.status === 200 && method === 'GET' && /text\/html/.test(a.contentType);
      return [
        ...found,
        ...answerProblems(a, { otherBody: () => stream || landingPage }).filter((f) => !f.kind.startsWith('leak') && !f.kind.startsWith('HTTP')),
      ];
    },
  };
}

// ---------- health: the processes still serve ----------

/** Every process answers /health, and serves a real request (a positive control, not just "up"). */
export async function healthProblems(s: FuzzSetup): Promise<Finding[]> {
  const found: Finding[] = [];
  const doors = [['gateway', s.platform.gatewayUrl], ['production gateway', s.production.url], ...SUBGRAPHS.map((n) => [n, s.platform.subgraphs[n].url])];
  for (const [label, url] of doors) {
    const res = await sendRaw({ url: new URL('/health', url).href, method: 'GET', headers: {} }).catch((err: Error) => ({ status: 0, text: err.message }));
    if (res.status !== 200) found.push({ kind: 'unhealthy', detail: `${label} /health: ${res.status} ${res.text.slice(0, 200)}` });
  }
  const me = await postOperation(s, { kind: 'gateway', url: s.platform.gatewayUrl, production: false }, { query: '{ me { id } }', variables: {} }, s.client);
  if (me.json?.data?.me?.id !== s.client.id) found.push({ kind: 'unhealthy', detail: `gateway no longer serves { me { id } }: ${me.text.slice(0, 200)}` });
  for (const name of SUBGRAPHS) {
    const sdl = await postOperation(
      s,
      { kind: 'subgraph', name, url: s.platform.subgraphs[name].url },
      { query: '{ _service { sdl } }', variables: {} },
      s.client,
    );
    if (typeof sdl.json?.data?._service?.sdl !== 'string')
      found.push({ kind: 'unhealthy', detail: `${name} no longer serves _service: ${sdl.text.slice(0, 200)}` });
  }
  return found;
}

// ---------- running ----------

export interface FuzzOptions {
  seed: number;
  /** Base number of cases per property (scaled by WEIGHT). */
  runs: number;
  /** Stop at the first finding and let fast-check shrink it (the test); else collect every finding (the long run). */
  failFast: boolean;
  onProgress?(property: PropertyName, done: number, total: number): void;
}

export interface PropertyReport {
  property: PropertyName;
  seed: number;
  cases: number;
  findings: FuzzFinding[];
  /** How many cases ended how (status and first error code, or `wrote`). */
  outcomes: Record<string, number>;
  seconds: number;
}

export class FuzzFailure extends Error {}

export const casesFor = (property: PropertyName, runs: number) => Math.max(1, Math.round(runs * WEIGHT[property]));

/** Runs one property: `cases` generated requests from `seed` (plus the property's index), then the health check. */
export async function runProperty(s: FuzzSetup, property: PropertyName, opts: FuzzOptions): Promise<PropertyReport> {
  const started = performance.now();
  const seed = opts.seed + PROPERTIES.indexOf(property);
  const total = casesFor(property, opts.runs);
  const findings: FuzzFinding[] = [];
  const outcomes: Record<string, number> = {};
  let cases = 0;
  if (property === 'mutations') {
    // A positive control for the digests: one known write (a body metric of the demo client)
    // must be seen as written and read back, so "nothing written by a failure" means something.
    const door: Door = { kind: 'gateway', url: s.platform.gatewayUrl, production: false };
    const control: GeneratedOperation = {
      query: 'mutation { recordBodyMetrics(input: { weightKg: 80.5 }) { id } }',
      variables: {},
      kind: 'mutation',
      rootKeys: ['recordBodyMetrics'],
    };
    const { findings: found, outcome } = await exercise(s, door, control, s.viewers[1]);
    outcomes[`control ${outcome}`] = 1;
    findings.push(...found.map((f) => ({ ...f, property, request: 'control: recordBodyMetrics as the demo client' })));
  }
  await fc.assert(
    fc.asyncProperty(fc.gen(), async (g) => {
      const { request, findings: found, outcome } = await CHECKS[property](s, g);
      cases++;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      opts.onProgress?.(property, cases, total);
      if (found.length === 0) return;
      if (opts.failFast) throw new FuzzFailure(`${found.map((f) => `${f.kind}: ${f.detail}`).join('\n')}\nrequest: ${request}`);
      findings.push(...found.map((f) => ({ ...f, property, request })));
    }),
    // No shrinking: each replay talks to a platform whose state moved on, and costs seconds; the seed and path replay the case.
    { seed, numRuns: total, endOnFailure: true },
  );
  const health = await healthProblems(s);
  if (health.length && opts.failFast) throw new FuzzFailure(`after ${property}: ${health.map((f) => f.detail).join('\n')}`);
  findings.push(...health.map((f) => ({ ...f, property, request: `health after ${cases} cases` })));
  return { property, seed, cases, findings, outcomes, seconds: (performance.now() - started) / 1000 };
}

/** FUZZ_SEED and FUZZ_RUNS from the environment, each with its default. */
export function fuzzEnv(env: NodeJS.ProcessEnv, defaults: { seed: number; runs: number }): { seed: number; runs: number } {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  return { seed: int('FUZZ_SEED', defaults.seed), runs: int('FUZZ_RUNS', defaults.runs) };
}
