import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import {
  Kind,
  OperationTypeNode,
  Source,
  buildASTSchema,
  lexicographicSortSchema,
  parse,
  printSchema,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
} from 'graphql';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { droppedLiveTopics, liveDeclarations, unservedSubscriptions, type SubscriptionTransport } from './live-topics.js';
import { requiresConflicts } from './requires.js';

const configSchema = z.object({
  federation_version: z.union([z.string(), z.number()]).optional(),
  subgraphs: z.record(
    z.string(),
    z.object({
      routing_url: z.string().url(),
      schema: z.object({ file: z.string() }),
      /**
       * FitSync's own key: the subgraph serves its Subscription fields without `@liveTopic`
       * itself, over graphql-ws (`ws`) or graphql-sse (`sse`) at its routing URL. Without it,
       * such a field is refused (LIVE_SUBSCRIPTION_UNSERVED).
       */
      subscriptions: z.enum(['ws', 'sse']).optional(),
    }),
  ),
});

export interface SubgraphSource {
  name: string;
  url: string;
  /** Absolute path of the schema file. */
  file: string;
  sdl: string;
  /** The config says the subgraph serves its own subscriptions, and over what (`subscriptions: ws|sse`). */
  subscriptions?: SubscriptionTransport;
}

/** Reads a rover `supergraph.yaml` and the schema files it names (paths relative to the YAML). */
export async function loadSupergraphConfig(path: string): Promise<SubgraphSource[]> {
  const raw = parseYaml(await readFile(path, 'utf8'));
  const config = configSchema.parse(raw);
  const base = dirname(resolve(path));
  return Promise.all(
    Object.entries(config.subgraphs).map(async ([name, s]) => {
      const file = resolve(base, s.schema.file);
      return { name, url: s.routing_url, file, sdl: await readFile(file, 'utf8'), ...(s.subscriptions ? { subscriptions: s.subscriptions } : {}) };
    }),
  );
}

export interface CompositionProblem {
  subgraph?: string;
  code: string;
  message: string;
  locations: { subgraph?: string; line: number; column: number }[];
}

export type CompositionResult = { ok: true; supergraphSdl: string } | { ok: false; problems: CompositionProblem[] };

/** Composes subgraph schemas; a schema that does not parse is reported like a composition error. */
export function compose(subgraphs: Pick<SubgraphSource, 'name' | 'url' | 'sdl' | 'subscriptions'>[]): CompositionResult {
  const problems: CompositionProblem[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode; subscriptions?: SubscriptionTransport }[] = [];
  for (const s of subgraphs) {
    try {
      // Named after the subgraph, so that error locations say which schema they are in.
      services.push({ name: s.name, url: s.url, typeDefs: parse(new Source(s.sdl, s.name)), subscriptions: s.subscriptions });
    } catch (err) {
      const e = err as GraphQLError;
      problems.push({
        subgraph: s.name,
        code: 'INVALID_GRAPHQL',
        message: e.message,
        locations: (e.locations ?? []).map((l) => ({ subgraph: s.name, ...l })),
      });
    }
  }
  if (problems.length) return { ok: false, problems };
  const result = composeServices(services.map(({ name, url, typeDefs }) => ({ name, url, typeDefs })));
  if (result.errors) {
    return {
      ok: false,
      problems: result.errors.map((e) => {
        const nodes = e.nodes ?? [];
        const locations = nodes.flatMap((n) => {
          const loc = n.loc;
          if (!loc) return [];
          const { line, column } = locationOf(loc.source.body, loc.start);
          return [{ subgraph: subgraphOfSource(loc.source.name), line, column }];
        });
        const subgraph = locations[0]?.subgraph;
        return {
          subgraph,
          code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'COMPOSITION_ERROR',
          // composition prefixes "[subgraph] ", which the report shows on its own
          message: subgraph && e.message.startsWith(`[${subgraph}] `) ? e.message.slice(subgraph.length + 3) : e.message,
          locations,
        };
      }),
    };
  }
  // A Subscription field with @liveTopic is fed from that broker topic; one without is
  // served by its subgraph (the gateway subscribes upstream), which the composition config
  // must say (`subscriptions: ws|sse`). A declaration that cannot be used, that composition
  // dropped, or a field that nothing feeds is refused here (compose, schema:check, publish),
  // not at subscribe time.
  const live = liveDeclarations(result.supergraphSdl);
  const liveProblems = [
    ...live.problems,
    ...services.flatMap((s) => droppedLiveTopics(s.typeDefs, live).map((p) => ({ ...p, subgraph: s.name }))),
    ...services.flatMap((s) => (s.subscriptions ? [] : unservedSubscriptions(s.name, s.typeDefs, live).map((p) => ({ ...p, subgraph: s.name })))),
  ];
  if (liveProblems.length) {
    return {
      ok: false,
      problems: liveProblems.map((p) => {
        const locations = services
          .filter((s) => !('subgraph' in p) || s.name === p.subgraph)
          .flatMap((s) => subscriptionFieldLocations(s.name, s.typeDefs, p.field));
        return { subgraph: locations[0]?.subgraph, code: p.code, message: p.message, locations };
      }),
    };
  }
  const requires = requiresConflicts(result.supergraphSdl);
  if (requires.length) {
    return {
      ok: false,
      problems: requires.map((c) => {
        const locations = c.fields.flatMap((f) =>
          fieldLocations(
            services.find((s) => s.name === f.graph),
            c.type,
            f.field,
          ),
        );
        return { subgraph: c.fields[0].graph, code: c.code, message: c.message, locations };
      }),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl };
}

/** Where a subgraph defines `<type>.<field>`, for a problem's report. */
function fieldLocations(service: { name: string; typeDefs: DocumentNode } | undefined, type: string, field: string) {
  if (!service) return [];
  return service.typeDefs.definitions.flatMap((d) => {
    if ((d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION && d.kind !== Kind.INTERFACE_TYPE_DEFINITION) || d.name.value !== type)
      return [];
    const loc = d.fields?.find((f) => f.name.value === field)?.name.loc;
    return loc ? [{ subgraph: service.name, ...locationOf(loc.source.body, loc.start) }] : [];
  });
}

/** Where a subgraph defines `Subscription.<field>`, for a problem's report. */
function subscriptionFieldLocations(subgraph: string, doc: DocumentNode, field: string) {
  const root =
    doc.definitions
      .flatMap((d) => (d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION ? (d.operationTypes ?? []) : []))
      .find((o) => o.operation === OperationTypeNode.SUBSCRIPTION)?.type.name.value ?? 'Subscription';
  return doc.definitions.flatMap((d) => {
    if ((d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) || d.name.value !== root) return [];
    const node = d.fields?.find((f) => f.name.value === field);
    const loc = node?.name.loc;
    if (!loc) return [];
    return [{ subgraph, ...locationOf(loc.source.body, loc.start) }];
  });
}

function subgraphOfSource(name: string | undefined): string | undefined {
  // @apollo/composition names each source after its subgraph.
  return name && name !== 'GraphQL request' ? name : undefined;
}

function locationOf(body: string, offset: number) {
  const before = body.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/**
 * One problem per entry: `[subgraph] CODE: message` and where, as `subgraph:line:column`,
 * or `file:line:column` when `files` names the subgraph's schema file (editors open those).
 */
export function formatProblems(problems: CompositionProblem[], files: Record<string, string> = {}): string {
  return problems
    .map((p) => {
      const where = p.locations
        .map((l) => {
          const subgraph = l.subgraph ?? p.subgraph ?? '?';
          return `${files[subgraph] ?? subgraph}:${l.line}:${l.column}`;
        })
        .join(', ');
      return `  [${p.subgraph ?? 'supergraph'}] ${p.code}: ${p.message}${where ? `\n      at ${where}` : ''}`;
    })
    .join('\n');
}

/** Writes a file so that readers see the old or the new content, never half of one. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  // Same folder as the target: rename is atomic only within one file system.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The id the gateway, `/ready`, metrics and the publish history use for a supergraph: sha256 of its bytes. */
export const supergraphHash = (sdl: string) => createHash('sha256').update(sdl).digest('hex');

/** The schema clients see: the supergraph without federation machinery or @inaccessible parts. */
export function apiSchemaSdl(supergraphSdl: string): string {
  return printSchema(lexicographicSortSchema(apiSchemaOf(supergraphSdl))) + '\n';
}

/**
 * The API schema as a schema of this package's `graphql`. Built from the AST, not
 * with federation's `toGraphQLJSSchema`: that one belongs to the CommonJS copy of
 * graphql, which a bundler (vitest) may load next to the ESM copy, and graphql-js
 * refuses a schema from the other copy.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return buildASTSchema(Supergraph.build(supergraphSdl).apiSchema().toAST());
}
