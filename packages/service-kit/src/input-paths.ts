import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode, type ValueNode } from 'graphql';
import { ErrorCode } from './errors.js';

/**
 * Where a value sits among an operation's arguments, named as resolvers name the fields they
 * refuse: a scalar argument by its name (`email`, `ids[2]`), a field of an input object by its
 * place inside it (`startDate`, `exercises[1].sets`, for `input: { ... }`). A refused input
 * names its field this way whether the client wrote the value inline or sent it in a
 * variable, so the same mistake reads the same.
 */
export const inArgument = (path: string) => path.replace(/^[_A-Za-z][_0-9A-Za-z]*\./, '');

function forEachArgumentValue(document: DocumentNode, fn: (node: ValueNode, path: string) => boolean | void): void {
  const walk = (node: ValueNode, path: string): boolean => {
    if (fn(node, path) === true) return true;
    if (node.kind === Kind.OBJECT) return node.fields.some((f) => walk(f.value, `${path}.${f.name.value}`));
    if (node.kind === Kind.LIST) return node.values.some((v, i) => walk(v, `${path}[${i}]`));
    return false;
  };
  let done = false;
  visit(document, {
    Argument(node) {
      if (!done) done = walk(node.value, node.name.value);
      return false;
    },
  });
}

/** The argument path of a literal value node of the document. */
export function literalPath(document: DocumentNode, target: ASTNode): string | undefined {
  let found: string | undefined;
  forEachArgumentValue(document, (node, path) => {
    if (node.loc?.start !== target.loc?.start || node.kind !== target.kind) return false;
    found = inArgument(path);
    return true;
  });
  return found;
}

/** `$i.name` (a place inside variable `i`) as the argument path it feeds: `input.name`. */
export function variablePath(document: DocumentNode, inVariables: string): string | undefined {
  const [, name, rest = ''] = /^\$?([_A-Za-z][_0-9A-Za-z]*)(.*)$/s.exec(inVariables) ?? [];
  if (!name) return undefined;
  let found: string | undefined;
  forEachArgumentValue(document, (node, path) => {
    if (node.kind !== Kind.VARIABLE || node.name.value !== name) return false;
    found = inArgument(`${path}${rest}`);
    return true;
  });
  return found;
}

// graphql-js's message for a variable a scalar or an input type refused:
// `Variable "$i" got invalid value "…" at "i.recordedAt"; …`, or without `at` for the variable itself.
const COERCION = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" (?:got invalid value .*? at "[_A-Za-z][_0-9A-Za-z]*([^"]*)"; |got invalid value |of )/s;

/** The argument path a BAD_USER_INPUT error is about, from the document it was raised on. */
function fieldOf(err: GraphQLError, document: DocumentNode): string | undefined {
  const field = err.extensions.field;
  if (typeof field === 'string') return field.startsWith('$') ? (variablePath(document, field) ?? field) : field;
  const coercion = COERCION.exec(err.message);
  if (coercion) return variablePath(document, `$${coercion[1]}${coercion[2] ?? ''}`);
  const node = err.nodes?.[0];
  return node ? literalPath(document, node) : undefined;
}

/**
 * Plugin: every BAD_USER_INPUT names its input by argument path (`field: 'input.startDate'`),
 * whether the value was inline or in a variable; and a scalar that refuses an inline literal
 * (a Date outside 1900-2100) answers BAD_USER_INPUT as it does for a variable, not the
 * GRAPHQL_VALIDATION_FAILED Apollo gives every error found while validating.
 */
export function inputFieldPaths<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, document }) {
          if (!document) return;
          for (const err of errors) {
            const extensions = err.extensions as Record<string, unknown>;
            const original = err.originalError;
            if (extensions.code === 'GRAPHQL_VALIDATION_FAILED' && original instanceof GraphQLError && original.extensions.code === ErrorCode.BAD_USER_INPUT) {
              extensions.code = ErrorCode.BAD_USER_INPUT;
              const field = fieldOf(original, document);
              if (field) extensions.field = field;
              continue;
            }
            if (extensions.code !== ErrorCode.BAD_USER_INPUT) continue;
            const field = fieldOf(err, document);
            if (field) extensions.field = field;
          }
        },
      };
    },
  };
}
