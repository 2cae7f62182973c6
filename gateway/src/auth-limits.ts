import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '@fitsync/service-kit';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  OperationTypeNode,
  getDirectiveValues,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { GatewayContext } from './context.js';
import { isRefusal, rateLimitedBody, type AuthReservation, type LoginOutcome, type RateLimits } from './rate-limits.js';

/** A root `login` or `register` field of a mutation, by the key its answer comes under. */
export interface AuthField {
  name: 'login' | 'register';
  responseKey: string;
  /** login: the email it tries, when the document or its variables give a string. */
  email?: string;
}

type Variables = Record<string, unknown>;

/**
 * Every `login` and `register` field at the root of a mutation that will run: through
 * aliases, inline fragments and fragment spreads, without those `@skip`/`@include` leave out
 * (a directive it cannot evaluate counts as included). Fields under one response key are one
 * field (validation made them identical, and they run once).
 */
export function authFields(operation: OperationDefinitionNode, document: DocumentNode, variables: Variables): AuthField[] {
  if (operation.operation !== OperationTypeNode.MUTATION) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const found = new Map<string, AuthField>();
  const entered = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (!included(selection, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name !== 'login' && name !== 'register') continue;
        const responseKey = selection.alias?.value ?? name;
        if (!found.has(responseKey)) found.set(responseKey, { name, responseKey, ...(name === 'login' ? { email: emailOf(selection, variables) } : {}) });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !entered.has(fragment.name.value)) {
          entered.add(fragment.name.value);
          walk(fragment.selectionSet);
        }
      }
    }
  };
  walk(operation.selectionSet);
  return [...found.values()];
}

function included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: Variables): boolean {
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  } catch {
    return true;
  }
}

function emailOf(field: FieldNode, variables: Variables): string | undefined {
  const arg = field.arguments?.find((a) => a.name.value === 'email')?.value;
  if (arg?.kind === Kind.STRING) return arg.value;
  if (arg?.kind === Kind.VARIABLE) {
    const value = variables[arg.name.value];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/**
 * What each login field's answer says: its payload came back (the password was right), an
 * error at its path (wrong, unless the input was refused before any password was checked),
 * or neither (it did not run: a sibling's failure ended the mutation first, or it was skipped).
 */
export function loginOutcome(field: AuthField, result: FormattedExecutionResult | undefined): LoginOutcome {
  if (!result) return 'failure';
  if (result.data?.[field.responseKey] != null) return 'success';
  const error = result.errors?.find((e) => e.path?.[0] === field.responseKey);
  if (!error) return 'unchecked';
  return error.extensions?.code === ErrorCode.BAD_USER_INPUT ? 'unchecked' : 'failure';
}

/** A register field ran when its payload or an error at its path came back. */
const ran = (field: AuthField, result: FormattedExecutionResult | undefined) =>
  !result || result.data?.[field.responseKey] != null || Boolean(result.errors?.some((e) => e.path?.[0] === field.responseKey));

/**
 * Login and register limits, decided before a subgraph is asked: once the operation is
 * validated and every other check passed (`responseForOperation`), the points of its
 * login and register fields are spent, and a blocked account or address answers 429 with
 * Retry-After, so the right password does not work while blocked. After execution each
 * field's own answer settles its points (`loginOutcome`). Listed before `errorCap`: the
 * outcomes are read before errors are cut.
 */
export function authRateLimits(limits: RateLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let held: { fields: AuthField[]; reservation: AuthReservation } | undefined;
      let executed = false;
      return {
        async responseForOperation({ operation, document, request, contextValue }) {
          const fields = authFields(operation, document, request.variables ?? {});
          if (fields.length === 0) return null;
          const logins = fields.filter((f) => f.name === 'login');
          const reserved = await limits.reserveAuth(
            contextValue.clientAddress,
            logins.map((f) => f.email),
            fields.length - logins.length,
          );
          if (isRefusal(reserved)) {
            return {
              http: { status: 429, headers: new HeaderMap([['retry-after', String(reserved.retryAfter)]]) },
              body: { kind: 'single', singleResult: rateLimitedBody(reserved) },
            };
          }
          held = { fields, reservation: reserved };
          return null;
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ response }) {
          if (!held) return;
          // Read now, before any other listener's willSendResponse changes the result.
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const logins = held.fields.filter((f) => f.name === 'login').map((f) => (executed ? loginOutcome(f, result) : 'unchecked'));
          const registrations = executed ? held.fields.filter((f) => f.name === 'register' && ran(f, result)).length : 0;
          await held.reservation.settle(logins, registrations);
        },
      };
    },
  };
}
