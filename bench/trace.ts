// Runs each workload once per sampled user through in-process copies of the three
// gateways with a recording fetch, to count what they send subgraphs per operation
// (requests, entity representations), to check they give the same answers, and
// to capture the subgraph requests our gateway makes so the floor can replay them.
import { isDeepStrictEqual } from 'node:util';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { SERVICE_TOKEN_HEADER, createLogger, createServiceCredentials } from '@fitsync/service-kit';
import type { GatewayContext } from '../gateway/src/context.js';
import { SubgraphDataSource } from '../gateway/src/datasource.js';
import { PlannedGateway, plannerSupergraph } from '../gateway/src/planner-fixes/index.js';
import type { Workload } from './workloads.js';

export type GatewayName = 'ours' | 'apollo' | 'hive';

/** One request a gateway sent a subgraph. */
export interface SubgraphCall {
  subgraph: string;
  url: string;
  operationName?: string;
  body: string;
  representations: number;
}

export interface QueryPlanNode {
  kind: string;
  nodes?: QueryPlanNode[];
  node?: QueryPlanNode;
  serviceName?: string;
  operationName?: string;
}

export interface WorkloadTrace {
  /** Per gateway: average subgraph requests and entity representations per operation. */
  perOperation: Record<GatewayName, { subgraphRequests: number; representations: number }>;
  /** Whether the peers' answers equal ours for every sampled user. */
  sameAnswers: Record<Exclude<GatewayName, 'ours'>, boolean>;
  /** The first place a peer's answer differed from ours, if any. */
  differences: string[];
  /** Per gateway and subgraph: average requests and representations per operation. */
  bySubgraph: Record<GatewayName, Record<string, { requests: number; representations: number }>>;
  /** Our gateway's query plan (for the critical path of the floor). */
  plan?: QueryPlanNode;
  /** Our gateway's subgraph requests by fetch (operation name), with the user's token. */
  fetches: Map<string, { subgraph: string; url: string; samples: { body: string; authorization: string }[] }>;
  /** Errors in our answers (there should be none). */
  errors: string[];
}

type Record_ = (call: SubgraphCall) => void;

function recordingFetch(subgraphOf: (url: string) => string, record: () => Record_ | undefined) {
  return async (url: string, init?: { body?: unknown; headers?: unknown; method?: string }) => {
    record()?.(callOf(subgraphOf, url, typeof init?.body === 'string' ? init.body : ''));
    return fetch(url, init as RequestInit);
  };
}

export async function traceWorkloads(opts: {
  supergraphSdl: string;
  supergraphPath: string;
  subgraphs: Record<string, string>;
  serviceSecret: string;
  workloads: Workload[];
  usersPerWorkload: number;
}): Promise<Map<string, WorkloadTrace>> {
  const byUrl = new Map(Object.entries(opts.subgraphs).map(([name, url]) => [url, name]));
  const subgraphOf = (url: string) => byUrl.get(url) ?? url;
  let sink: Record_ | undefined;
  const fetcher = recordingFetch(subgraphOf, () => sink);
  const credentials = createServiceCredentials('gateway', opts.serviceSecret);
  const log = createLogger('bench', 'silent');

  let plan: QueryPlanNode | undefined;
  // Ours with the plan rewrites the gateway applies (gateway/src/planner-fixes/: the supergraph's,
  // and each plan's, GATEWAY_DEFER_ENTITY_FETCHES as the running gateway reads it).
  const planned = new PlannedGateway(log, { deferEntityFetches: process.env.GATEWAY_DEFER_ENTITY_FETCHES !== 'off' });
  const ours = new ApolloServer<GatewayContext>({
    gateway: planned.wrap(
      new ApolloGateway({
        supergraphSdl: plannerSupergraph(opts.supergraphSdl),
        buildService: ({ name, url }) => new SubgraphDataSource({ name, url: url!, fetcher: fetcher, credentials, log }),
        experimental_didResolveQueryPlan: (resolved) => {
          planned.didResolveQueryPlan(resolved);
          plan = resolved.queryPlan.node;
        },
      }),
    ),
  });
  class Plain extends RemoteGraphQLDataSource<{ authorization?: string }> {
    override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<{ authorization?: string }>) {
      request.http!.headers.set(SERVICE_TOKEN_HEADER, await credentials.token());
      if (context.authorization) request.http!.headers.set('authorization', context.authorization);
    }
  }
  const apollo = new ApolloServer<{ authorization?: string }>({
    gateway: new ApolloGateway({ supergraphSdl: opts.supergraphSdl, buildService: ({ url }) => new Plain({ url, fetcher: fetcher }) }),
  });
  const hive = createGatewayRuntime({
    supergraph: opts.supergraphPath,
    logging: false,
    propagateHeaders: {
      fromClientToSubgraphs: async ({ request }) => ({
        [SERVICE_TOKEN_HEADER]: await credentials.token(),
        authorization: request.headers.get('authorization'),
      }),
    },
    plugins: () => [{ onFetch: ({ url, options }) => void sink?.(callOf(subgraphOf, url, typeof options.body === 'string' ? options.body : '')) }],
  });
  await ours.start();
  await apollo.start();

  const run = async (gateway: GatewayName, w: Workload, token: string, calls: SubgraphCall[]) => {
    sink = (c) => calls.push(c);
    try {
      const authorization = `Bearer ${token}`;
      if (gateway === 'hive') {
        const res = await hive.fetch('http://bench.invalid/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: w.query, operationName: w.operationName }),
        });
        return (await res.json()) as { data?: unknown; errors?: { message: string }[] };
      }
      const server = (gateway === 'ours' ? ours : apollo) as ApolloServer<GatewayContext>;
      const viewer = null; // the subgraphs verify the token themselves
      const res = await server.executeOperation(
        { query: w.query, operationName: w.operationName },
        { contextValue: { authorization, correlationId: 'bench-trace', viewer, clientAddress: '127.0.0.1', log } },
      );
      if (res.body.kind !== 'single') throw new Error('unexpected incremental result');
      return res.body.singleResult as { data?: unknown; errors?: { message: string }[] };
    } finally {
      sink = undefined;
    }
  };

  const out = new Map<string, WorkloadTrace>();
  try {
    for (const w of opts.workloads) {
      const totals = { ours: { r: 0, e: 0 }, apollo: { r: 0, e: 0 }, hive: { r: 0, e: 0 } };
      const same = { apollo: true, hive: true };
      const differences: string[] = [];
      const bySubgraph = { ours: {}, apollo: {}, hive: {} } as WorkloadTrace['bySubgraph'];
      const fetches: WorkloadTrace['fetches'] = new Map();
      const errors: string[] = [];
      let workloadPlan: QueryPlanNode | undefined;
      const users = w.tokens.slice(0, opts.usersPerWorkload);
      for (const token of users) {
        const answers = {} as Record<GatewayName, unknown>;
        for (const g of ['ours', 'apollo', 'hive'] as const) {
          const calls: SubgraphCall[] = [];
          plan = undefined;
          const result = await run(g, w, token, calls);
          // Plain JSON, as a client sees it (Apollo's executor builds null-prototype objects).
          answers[g] = JSON.parse(JSON.stringify(result.data ?? null));
          totals[g].r += calls.length;
          totals[g].e += calls.reduce((n, c) => n + c.representations, 0);
          for (const c of calls) {
            const b = (bySubgraph[g][c.subgraph] ??= { requests: 0, representations: 0 });
            b.requests += 1 / users.length;
            b.representations += c.representations / users.length;
          }
          if (g !== 'ours') continue;
          workloadPlan ??= plan;
          for (const e of result.errors ?? []) errors.push(e.message);
          for (const c of calls) {
            const key = fetchKey(c.operationName, c.subgraph);
            const entry = fetches.get(key) ?? { subgraph: c.subgraph, url: c.url, samples: [] };
            entry.samples.push({ body: c.body, authorization: `Bearer ${token}` });
            fetches.set(key, entry);
          }
        }
        for (const peer of ['apollo', 'hive'] as const) {
          if (isDeepStrictEqual(answers[peer], answers.ours)) continue;
          if (same[peer]) differences.push(`${peer}: ${firstDifference(answers.ours, answers[peer], 'data')}`);
          same[peer] = false;
        }
      }
      const avg = (t: { r: number; e: number }) => ({ subgraphRequests: t.r / users.length, representations: t.e / users.length });
      out.set(w.name, {
        perOperation: { ours: avg(totals.ours), apollo: avg(totals.apollo), hive: avg(totals.hive) },
        sameAnswers: same,
        differences,
        bySubgraph,
        plan: workloadPlan,
        fetches,
        errors: [...new Set(errors)],
      });
    }
  } finally {
    await ours.stop();
    await apollo.stop();
    await hive.dispose();
  }
  return out;
}

/** A fetch of the plan: its generated operation name, or for an anonymous operation its subgraph. */
const fetchKey = (operationName: string | undefined, subgraph: string) => operationName ?? subgraph;

function firstDifference(ours: unknown, theirs: unknown, path: string): string {
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    if (ours.length !== theirs.length) return `${path}: ${ours.length} items in ours, ${theirs.length} in theirs`;
    for (let i = 0; i < ours.length; i++) if (!isDeepStrictEqual(ours[i], theirs[i])) return firstDifference(ours[i], theirs[i], `${path}.${i}`);
  }
  if (ours && theirs && typeof ours === 'object' && typeof theirs === 'object') {
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
    for (const k of keys) {
      const a = (ours as Record<string, unknown>)[k];
      const b = (theirs as Record<string, unknown>)[k];
      if (!isDeepStrictEqual(a, b)) return firstDifference(a, b, `${path}.${k}`);
    }
  }
  return `${path}: ours ${JSON.stringify(ours)?.slice(0, 120)}, theirs ${JSON.stringify(theirs)?.slice(0, 120)}`;
}

function callOf(subgraphOf: (url: string) => string, url: string, body: string): SubgraphCall {
  const parsed = JSON.parse(body) as { operationName?: string; variables?: Record<string, unknown> };
  // Merged entity fetches (ours, Hive Gateway) carry one list per fetch under their own variable names:
  // count every list of representations (objects with a __typename).
  let representations = 0;
  for (const value of Object.values(parsed.variables ?? {})) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && '__typename' in v)) representations += value.length;
  }
  return { subgraph: subgraphOf(url), url, operationName: parsed.operationName, body, representations };
}

/**
 * The shortest time our gateway could answer in, given how long each subgraph
 * takes for its own fetch: fetches in sequence add up, parallel ones take the
 * slowest. Fetches the gateway skipped (nothing to ask) count zero.
 */
export function criticalPath(node: QueryPlanNode | undefined, fetchMs: (fetchKey: string) => number | undefined): number {
  if (!node) return 0;
  switch (node.kind) {
    case 'Fetch':
      return fetchMs(fetchKey(node.operationName, node.serviceName ?? '')) ?? 0;
    case 'Flatten':
      return criticalPath(node.node, fetchMs);
    case 'Sequence':
      return (node.nodes ?? []).reduce((sum, n) => sum + criticalPath(n, fetchMs), 0);
    case 'Parallel':
      return Math.max(0, ...(node.nodes ?? []).map((n) => criticalPath(n, fetchMs)));
    default:
      return (node.nodes ?? []).reduce((sum, n) => sum + criticalPath(n, fetchMs), 0);
  }
}
