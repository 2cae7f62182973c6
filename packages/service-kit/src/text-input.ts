import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { BREAK, GraphQLError, visit, type ASTNode, type DocumentNode } from 'graphql';
import { ErrorCode } from './errors.js';
import { inArgument } from './input-paths.js';

// NUL, or half of a UTF-16 surrogate pair on its own: text no person typed, that Postgres
// refuses to store ('invalid byte sequence for encoding "UTF8"') or that no JSON reader can
// give back. Refused at the door, for every text input, before any resolver sees it.
const UNSAFE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored as it is, or undefined when it can. */
export function unsafeText(text: string): string | undefined {
  const match = UNSAFE.exec(text);
  if (!match) return undefined;
  return match[0] === '\0' ? 'must not contain a NUL character' : 'must not contain an unpaired UTF-16 surrogate';
}

const refusal = (field: string, reason: string, nodes?: readonly ASTNode[]) =>
  new GraphQLError(`${field} ${reason}`, { nodes, extensions: { code: ErrorCode.BAD_USER_INPUT, field, http: { status: 400 } } });

/** The first unsafe string in a JSON value (a variable), with the path that leads to it. */
function firstUnsafe(value: unknown, path: string): { path: string; reason: string } | undefined {
  if (typeof value === 'string') {
    const reason = unsafeText(value);
    return reason ? { path, reason } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstUnsafe(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const keyReason = unsafeText(key);
      if (keyReason) return { path: `${path}.<key>`, reason: keyReason };
      const found = firstUnsafe(v, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

type UnsafeLiteral = { path: string; reason: string; node: ASTNode };

/**
 * Each document's verdict, found once: Apollo Server's document store hands every request for
 * the same query the same parsed document, and walking a dashboard's whole tree per request
 * was a visible share of the gateway's CPU. Weak: a document evicted from the store goes too.
 */
const literalVerdicts = new WeakMap<DocumentNode, UnsafeLiteral | null>();

/** The first unsafe string literal of a document (in an argument or input-object field), named by its argument path. */
function firstUnsafeLiteral(document: DocumentNode): UnsafeLiteral | undefined {
  let verdict = literalVerdicts.get(document);
  if (verdict === undefined) {
    verdict = findUnsafeLiteral(document) ?? null;
    literalVerdicts.set(document, verdict);
  }
  return verdict ?? undefined;
}

function findUnsafeLiteral(document: DocumentNode): UnsafeLiteral | undefined {
  const names: string[] = [];
  let found: UnsafeLiteral | undefined;
  visit(document, {
    Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    StringValue(node) {
      const reason = unsafeText(node.value);
      if (reason && !found) found = { path: inArgument(names.join('.')) || 'a string', reason, node };
      return found ? BREAK : undefined;
    },
  });
  return found;
}

/**
 * Plugin: no string literal of the document (`field` is the argument path, `input.name`)
 * and no variable (`field` is `$i.name`) holds a NUL or an unpaired surrogate; refused with
 * a 400 and BAD_USER_INPUT before the operation runs.
 */
export function safeTextInputs<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const literal = firstUnsafeLiteral(document);
          if (literal) throw refusal(literal.path, literal.reason, [literal.node]);
          for (const [name, value] of Object.entries(request.variables ?? {})) {
            const found = firstUnsafe(value, `$${name}`);
            if (found) throw refusal(found.path, found.reason);
          }
        },
      };
    },
  };
}
