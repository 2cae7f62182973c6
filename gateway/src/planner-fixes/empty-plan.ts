import type { QueryPlan } from '@apollo/query-planner';
import { ErrorCode } from '@fitsync/service-kit';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Works around the query planner answering an operation it cannot route with an empty
 * plan: for an `@interfaceObject` whose interface has no object implementation, say, the
 * planner drops the fields it finds no subgraph for, and @apollo/gateway then executes
 * nothing and answers `{ "a": null }` without an error, as if the data were null. Apollo
 * Router refuses an empty plan for an operation that selects data; so does this module.
 * No upstream issue tracks it for @apollo/query-planner (2.14.4 behaves so; Apollo Router's
 * check is the reference). Remove it when the planner reports these operations as unplannable.
 *
 * The code is SERVICE_UNAVAILABLE (DESIGN.md section 6): the operation is valid against the
 * API schema, so it is not the client's mistake (not BAD_USER_INPUT or BAD_REQUEST), and no
 * subgraph of the supergraph served now can provide the data, which is what that code says
 * to a client; INTERNAL_SERVER_ERROR would hide the explanation behind its generic message.
 */
export function emptyPlanError(
  plan: Pick<QueryPlan, 'node'>,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
) {
  if (plan.node) return undefined;
  const operation = findOperation(document, operationName);
  if (!operation) return undefined;
  const fields = selectedRootFields(operation, document, variables ?? {});
  if (fields.length === 0) return undefined;
  return new GraphQLError(
    `No subgraph of the supergraph served now can resolve ${fields.map((f) => `${rootTypeName(operation)}.${f}`).join(', ')} as selected: ` +
      'the query planner found nothing to fetch for this operation, so the gateway refuses it rather than answer null',
    { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, reason: 'EMPTY_QUERY_PLAN' } },
  );
}

function rootTypeName(operation: OperationDefinitionNode) {
  // Composition names the root types so in every supergraph.
  return { [OperationTypeNode.QUERY]: 'Query', [OperationTypeNode.MUTATION]: 'Mutation', [OperationTypeNode.SUBSCRIPTION]: 'Subscription' }[
    operation.operation
  ];
}

function findOperation(document: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return name ? operations.find((o) => o.name?.value === name) : operations.length === 1 ? operations[0] : undefined;
}

/**
 * The root fields the operation selects with these variables, introspection (`__schema`,
 * `__type`, `__typename`, which the gateway answers itself with an empty plan) left out,
 * and fields that `@skip`/`@include` leave out too (the planner drops those, rightly).
 */
function selectedRootFields(operation: OperationDefinitionNode, document: DocumentNode, variables: Record<string, unknown>): string[] {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f] as const),
  );
  const defaults = new Map(operation.variableDefinitions?.map((v) => [v.variable.name.value, v.defaultValue] as const) ?? []);
  const variable = (name: string): unknown => {
    if (name in variables) return variables[name];
    const value = defaults.get(name);
    return value?.kind === Kind.BOOLEAN ? value.value : undefined;
  };
  const condition = (node: { directives?: readonly { name: { value: string }; arguments?: readonly { name: { value: string }; value: unknown }[] }[] }) => {
    for (const directive of node.directives ?? []) {
      if (directive.name.value !== 'skip' && directive.name.value !== 'include') continue;
      const arg = directive.arguments?.find((a) => a.name.value === 'if')?.value as { kind: string; value?: boolean; name?: { value: string } } | undefined;
      const value = arg?.kind === Kind.BOOLEAN ? arg.value : arg?.kind === Kind.VARIABLE ? variable(arg.name!.value) : undefined;
      if (directive.name.value === 'skip' && value === true) return false;
      if (directive.name.value === 'include' && value !== true) return false;
    }
    return true;
  };
  const found = new Set<string>();
  const seen = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!condition(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) found.add(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value)) {
          seen.add(fragment.name.value);
          walk(fragment.selectionSet);
        }
      }
    }
  };
  walk(operation.selectionSet);
  return [...found];
}
