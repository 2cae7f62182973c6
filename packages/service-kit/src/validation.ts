import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped, type DocumentNode, type ValidationRule } from 'graphql';
import { badInput } from './errors.js';

/**
 * An operation of a type the schema does not have (`subscription` on a subgraph without
 * subscriptions) fails validation, as graphql-js 17's KnownOperationTypesRule makes it:
 * graphql 16 leaves it to the executor, whose uncoded error reached the client as a 200
 * with INTERNAL_SERVER_ERROR.
 */
export const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This service has no ${node.operation} operations`, { nodes: node }));
    }
  },
});

/**
 * `_Any`, the entity representations `_entities` takes, checked where they come in: an
 * object naming one of this subgraph's entity types (`@key` in `typeDefs`) and carrying its
 * `id` (every key here is `id`). @apollo/subgraph's own `_Any` takes anything and its
 * resolver throws a plain Error for an unknown type, so a caller's malformed representation
 * was answered with INTERNAL_SERVER_ERROR; now it is BAD_USER_INPUT (a variable) or
 * GRAPHQL_VALIDATION_FAILED (a literal), like any other bad argument.
 */
export function representationScalar(typeDefs: DocumentNode): GraphQLScalarType {
  const entities = new Set(
    typeDefs.definitions.flatMap((d) =>
      'name' in d && d.name && 'directives' in d && d.directives?.some((x) => x.name.value === 'key') ? [d.name.value] : [],
    ),
  );
  const check = (value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new GraphQLError('An entity representation is an object with __typename and id');
    const { __typename, id } = value as Record<string, unknown>;
    if (typeof __typename !== 'string' || !entities.has(__typename))
      throw new GraphQLError(`An entity representation names one of ${[...entities].join(', ')} in __typename`);
    if (typeof id !== 'string') throw new GraphQLError(`A ${__typename} representation carries its id as a string`);
    return value;
  };
  return new GraphQLScalarType({ name: '_Any', parseValue: check, parseLiteral: (ast, variables) => check(valueFromASTUntyped(ast, variables)) });
}

type FieldResolver = (parent: Record<string, unknown> | null | undefined) => unknown;

/**
 * Resolvers for the `@external` fields of `typeDefs` that have none: the value the gateway
 * put in the representation (`@requires`), or BAD_USER_INPUT when a caller selects the field
 * here directly (`{ me { trainerIds } }` at users), where the default resolver found nothing
 * for a non-null field and the client got INTERNAL_SERVER_ERROR.
 */
export function externalFieldResolvers(typeDefs: DocumentNode, resolvers: object): Record<string, Record<string, FieldResolver>> {
  const out: Record<string, Record<string, FieldResolver>> = {};
  const given = resolvers as Record<string, Record<string, unknown> | undefined>;
  for (const d of typeDefs.definitions) {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const f of d.fields ?? []) {
      const [type, field] = [d.name.value, f.name.value];
      if (!f.directives?.some((x) => x.name.value === 'external') || given[type]?.[field] !== undefined) continue;
      (out[type] ??= {})[field] = (parent) => {
        const value = parent?.[field];
        if (value === undefined) throw badInput(`${type}.${field} belongs to another subgraph: ask the gateway for it`, field);
        return value;
      };
    }
  }
  return out;
}
