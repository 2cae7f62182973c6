import {
  Kind,
  OperationTypeNode,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';

/**
 * The spec of `@liveTopic`, FitSync's composed directive for broker subscriptions. A
 * subgraph links it, defines it and composes it:
 *
 * ```graphql
 * extend schema
 *   @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
 *   @link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])
 *   @composeDirective(name: "@liveTopic")
 * directive @liveTopic(name: String!, recipients: [String!]!) on FIELD_DEFINITION
 *
 * type Subscription {
 *   notificationAdded: Notification! @liveTopic(name: "notificationAdded", recipients: ["recipient_id"])
 * }
 * ```
 *
 * The gateway subscribes to broker topic `name` and hands each message only to the
 * subscriptions of the users the payload fields `recipients` name (a string or a list of
 * strings each; `a.b` reads a nested field).
 */
export const LIVE_SPEC_URL = 'https://fitsync.dev/live/v0.1';
const LIVE_SPEC_PREFIX = 'https://fitsync.dev/live/';
export const LIVE_TOPIC_DIRECTIVE = 'liveTopic';

/** Where one declared Subscription field's messages come from and whom they are for. */
export interface LiveRoute {
  /** The Subscription field. */
  field: string;
  /** The broker topic that feeds it. */
  topic: string;
  /** Payload fields naming the users a message is for. */
  recipients: readonly string[];
}

/** How a subgraph serves its own subscriptions: graphql-ws or graphql-sse, at its routing URL. */
export type SubscriptionTransport = 'ws' | 'sse';

export interface LiveDeclarationProblem {
  field: string;
  code: 'LIVE_TOPIC_INVALID' | 'LIVE_TOPIC_NOT_COMPOSED' | 'LIVE_SUBSCRIPTION_UNSERVED';
  message: string;
}

export interface LiveDeclarations {
  /** Declared Subscription fields (broker-fed), by field name. */
  routes: Map<string, LiveRoute>;
  /**
   * Subscription fields without `@liveTopic`: their subgraph serves them itself, and the
   * gateway subscribes to it (graphql-ws, or SSE when configured) at its routing URL.
   */
  upstream: string[];
  /** Declarations that cannot be used. */
  problems: LiveDeclarationProblem[];
}

/**
 * Reads the `@liveTopic` declarations of a supergraph's Subscription fields (kept there by
 * `@composeDirective`). A field without one is an upstream field: the subgraph that owns
 * it serves its subscriptions.
 */
export function liveDeclarations(supergraph: string | DocumentNode): LiveDeclarations {
  const doc = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
  const directive = importedName(doc);
  const subscriptionType = subscriptionTypeName(doc);
  const routes = new Map<string, LiveRoute>();
  const upstream: string[] = [];
  const problems: LiveDeclarationProblem[] = [];
  for (const field of fieldsOf(doc, subscriptionType)) {
    const name = field.name.value;
    const usage = field.directives?.find((d) => d.name.value === directive);
    if (!usage) {
      upstream.push(name);
      continue;
    }
    const route = routeOf(name, usage);
    if (typeof route === 'string') problems.push({ field: name, code: 'LIVE_TOPIC_INVALID', message: `${subscriptionType}.${name}: ${route}` });
    else routes.set(name, route);
  }
  return { routes, upstream, problems };
}

/**
 * The Subscription fields a subgraph declares with `@liveTopic` whose declaration the
 * supergraph lost (the subgraph forgot `@composeDirective`): without this check they would
 * silently become upstream fields, served by a subgraph that only publishes to the broker.
 */
export function droppedLiveTopics(subgraph: DocumentNode, supergraph: LiveDeclarations): LiveDeclarationProblem[] {
  const directive = importedName(subgraph);
  const subscriptionType = subscriptionTypeName(subgraph);
  return fieldsOf(subgraph, subscriptionType)
    .filter((f) => f.directives?.some((d) => d.name.value === directive) && !supergraph.routes.has(f.name.value))
    .filter((f) => !supergraph.problems.some((p) => p.field === f.name.value))
    .map((f) => ({
      field: f.name.value,
      code: 'LIVE_TOPIC_NOT_COMPOSED' as const,
      message:
        `${subscriptionType}.${f.name.value}: its @${LIVE_TOPIC_DIRECTIVE} did not reach the supergraph, so the gateway would subscribe to the subgraph ` +
        `instead of the broker topic: compose it with @composeDirective(name: "@${LIVE_TOPIC_DIRECTIVE}") (linked from ${LIVE_SPEC_URL})`,
    }));
}

/**
 * The Subscription fields a subgraph defines without `@liveTopic` (upstream fields of the
 * supergraph) when its composition config does not say that it serves subscriptions: no
 * broker topic and no subgraph would feed them, and every subscribe would fail.
 */
export function unservedSubscriptions(subgraph: string, doc: DocumentNode, supergraph: LiveDeclarations): LiveDeclarationProblem[] {
  const directive = importedName(doc);
  const subscriptionType = subscriptionTypeName(doc);
  return (
    fieldsOf(doc, subscriptionType)
      // A field whose @liveTopic composition dropped is LIVE_TOPIC_NOT_COMPOSED instead.
      .filter((f) => supergraph.upstream.includes(f.name.value) && !f.directives?.some((d) => d.name.value === directive))
      .map((f) => ({
        field: f.name.value,
        code: 'LIVE_SUBSCRIPTION_UNSERVED' as const,
        message:
          `${subscriptionType}.${f.name.value}: nothing feeds it: it has no @${LIVE_TOPIC_DIRECTIVE}(name:, recipients:) naming a broker topic, and the ` +
          `composition config does not say that ${subgraph} serves subscriptions itself. Declare the topic, or, when ${subgraph} serves it over ` +
          `graphql-ws or SSE at its routing URL, add \`subscriptions: ws\` (or \`sse\`) under ${subgraph} in supergraph.yaml`,
      }))
  );
}

/** The Subscription fields of a subgraph schema without `@liveTopic`: those its subgraph must serve itself. */
export function undeclaredSubscriptionFields(sdl: string | DocumentNode): string[] {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const directive = importedName(doc);
  const subscriptionType = subscriptionTypeName(doc);
  return fieldsOf(doc, subscriptionType)
    .filter((f) => !f.directives?.some((d) => d.name.value === directive))
    .map((f) => `${subscriptionType}.${f.name.value}`);
}

/**
 * The users a message is for: the values of the route's recipient fields (strings, or
 * lists of strings), each once. Anything else names nobody.
 */
export function liveRecipients(recipients: readonly string[], payload: unknown): string[] {
  const users = new Set<string>();
  for (const path of recipients) {
    let value: unknown = payload;
    for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && v !== '') users.add(v);
  }
  return [...users];
}

/** The name `@liveTopic` goes by in the supergraph (`@link(import: [{ name, as }])` may rename it). */
function importedName(doc: DocumentNode): string {
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const url = argument(link, 'url');
      if (url?.kind !== Kind.STRING || !url.value.startsWith(LIVE_SPEC_PREFIX)) continue;
      const imports = argument(link, 'import');
      for (const item of imports?.kind === Kind.LIST ? imports.values : imports ? [imports] : []) {
        if (item.kind === Kind.STRING && item.value === `@${LIVE_TOPIC_DIRECTIVE}`) return LIVE_TOPIC_DIRECTIVE;
        if (item.kind === Kind.OBJECT) {
          const name = item.fields.find((f) => f.name.value === 'name')?.value;
          const as = item.fields.find((f) => f.name.value === 'as')?.value;
          if (name?.kind === Kind.STRING && name.value === `@${LIVE_TOPIC_DIRECTIVE}`) {
            return as?.kind === Kind.STRING ? as.value.replace(/^@/, '') : LIVE_TOPIC_DIRECTIVE;
          }
        }
      }
    }
  }
  return LIVE_TOPIC_DIRECTIVE;
}

function subscriptionTypeName(doc: DocumentNode): string {
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    const op = def.operationTypes?.find((o) => o.operation === OperationTypeNode.SUBSCRIPTION);
    if (op) return op.type.name.value;
  }
  return 'Subscription';
}

function fieldsOf(doc: DocumentNode, typeName: string): FieldDefinitionNode[] {
  return doc.definitions
    .filter(
      (d): d is ObjectTypeDefinitionNode | ObjectTypeExtensionNode =>
        (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === typeName,
    )
    .flatMap((d) => d.fields ?? []);
}

function routeOf(field: string, usage: ConstDirectiveNode): LiveRoute | string {
  const name = argument(usage, 'name');
  if (name?.kind !== Kind.STRING || name.value.trim() === '') return `@${LIVE_TOPIC_DIRECTIVE} needs a topic name`;
  const list = argument(usage, 'recipients');
  const values = list?.kind === Kind.LIST ? list.values : list ? [list] : [];
  const recipients = values.flatMap((v) => (v.kind === Kind.STRING && v.value.trim() !== '' ? [v.value] : []));
  if (recipients.length === 0 || recipients.length !== values.length) {
    return `@${LIVE_TOPIC_DIRECTIVE}(recipients:) must name at least one payload field, each a non-empty string (a message that names nobody reaches nobody)`;
  }
  return { field, topic: name.value, recipients };
}

function argument(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}
