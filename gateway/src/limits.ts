import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, type OperationDefinitionNode, type ValidationContext, type ValidationRule } from 'graphql';

export interface OperationLimits {
  /** Deepest field nesting allowed: `{ me { id } }` is 2. */
  maxDepth: number;
  /** Aliased fields allowed in one operation, counted once per place they are spread. */
  maxAliases: number;
  /** Directives allowed in one operation. */
  maxDirectives: number;
  /**
   * Lexical tokens allowed in one document, enforced by the parser itself (Apollo's
   * `parseOptions.maxTokens`, and the live server's parse): a document over it is refused
   * before it is built or validated.
   */
  maxTokens: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxDepth: 15, maxAliases: 30, maxDirectives: 50, maxTokens: 5_000 };

/** What one GraphQL Armor protection's visitor offers (the packages type it loosely). */
interface ArmorVisitor {
  onOperationDefinitionEnter(operation: OperationDefinitionNode): void;
}
type ArmorOptions = {
  n: number;
  propagateOnRejection: boolean;
  exposeLimits: boolean;
  onReject: (() => void)[];
  flattenFragments?: boolean;
  allowList?: string[];
};
type ArmorRule = (options: ArmorOptions) => (context: ValidationContext) => unknown;

/**
 * Refuses operations that are cheap to send and expensive to plan and run: very deep
 * selections (`user { trainer { clients { trainer { ... } } } }`), alias bombs
 * (`a1: me { ... } a2: me { ... } ...`) and directive floods. GraphQL Armor's protections do
 * the counting (each fragment measured once, so fragments spreading each other stay cheap);
 * this rule reports what they refuse in Apollo's validation, naming the operation, so the
 * client gets GRAPHQL_VALIDATION_FAILED and no subgraph is asked. The same rule runs for
 * HTTP, SSE and WebSocket.
 */
export function operationLimitsRule(limits: Pick<OperationLimits, 'maxDepth' | 'maxAliases'> & Partial<OperationLimits>): ValidationRule {
  const protections: [ArmorRule, number, (name: string, n: number) => string][] = [
    [maxDepthRule, limits.maxDepth, (name, n) => `${name} is nested more than ${n} levels deep`],
    [maxAliasesRule, limits.maxAliases, (name, n) => `${name} uses more than ${n} aliases`],
    [maxDirectivesRule, limits.maxDirectives ?? DEFAULT_LIMITS.maxDirectives, (name, n) => `${name} uses more than ${n} directives`],
  ];
  return (context) => {
    let refused = false;
    const reject = () => {
      refused = true;
    };
    const visitors = protections.map(([rule, n, message]) => ({
      // flattenFragments: a fragment spread adds no level of its own, only its fields do;
      // allowList empty: `a1: __typename a2: __typename ...` is an alias bomb too.
      visitor: rule({ n, propagateOnRejection: false, exposeLimits: false, onReject: [reject], flattenFragments: true, allowList: [] })(
        context,
      ) as ArmorVisitor,
      n,
      message,
    }));
    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const name = op.name ? `Operation "${op.name.value}"` : 'The operation';
        for (const { visitor, n, message } of visitors) {
          refused = false;
          visitor.onOperationDefinitionEnter(op);
          if (refused) context.reportError(new GraphQLError(message(name, n), { nodes: [op] }));
        }
        return false;
      },
    };
  };
}

/** Deepest list literal an argument may hold: no input of the API nests lists at all. */
export const MAX_LIST_NESTING = 5;

/**
 * Refuses list literals nested deeper than `max` (`from: [[[[[[ "2027-01-01" ]]]]]]`). The
 * gateway's scalars (Date, Time, DateTime) accept any literal in validation, and planning
 * then walks the value with @apollo/federation-internals' collectVariablesInValue, which
 * visits every list element twice (as an array and again as an object): 2^depth steps, so
 * a 100-byte anonymous request 30 levels deep held the gateway's event loop for minutes.
 * Refused here, in validation, before anything is planned.
 */
export function listNestingRule(max = MAX_LIST_NESTING): ValidationRule {
  return (context) => {
    let depth = 0;
    let reported = false;
    return {
      ListValue: {
        enter(node) {
          depth++;
          if (depth > max && !reported) {
            reported = true;
            context.reportError(new GraphQLError(`List values are nested more than ${max} levels deep`, { nodes: [node] }));
          }
        },
        leave() {
          depth--;
        },
      },
    };
  };
}

/**
 * Refuses number literals no JSON can carry (`1e999`, `-1e999`): the gateway's scalars
 * accept any literal in validation, and the planner then sent Infinity on to a subgraph,
 * which answered the client with a 500.
 */
export const finiteNumbersRule: ValidationRule = (context) => ({
  FloatValue(node) {
    if (!Number.isFinite(Number(node.value))) context.reportError(new GraphQLError(`Number ${node.value} is out of range`, { nodes: [node] }));
  },
});
