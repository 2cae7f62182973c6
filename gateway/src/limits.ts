import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

export interface OperationLimits {
  /** Deepest field nesting allowed: `{ me { id } }` is 2. */
  maxDepth: number;
  /** Aliased fields allowed in one operation, counted once per place they are spread. */
  maxAliases: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxDepth: 15, maxAliases: 30 };

/**
 * Refuses operations that are cheap to send and expensive to plan and run: very
 * deep selections (`user { trainer { clients { trainer { ... } } } }`) and alias
 * bombs (`a1: me { ... } a2: me { ... } ...`). Runs in Apollo's validation, so the
 * client gets GRAPHQL_VALIDATION_FAILED and no subgraph is asked.
 */
export function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }

    // Each fragment is measured once (depth relative to where it is spread), so
    // fragments that spread each other many times cannot make this walk explode.
    // Fragment cycles are reported by graphql's own rules; here they only must not loop.
    type Size = { depth: number; aliases: number };
    const measured = new Map<string, Size>();
    const open = new Set<string>();
    const measure = (set: SelectionSetNode): Size => {
      let depth = 0;
      let aliases = 0;
      for (const sel of set.selections) {
        let inner: Size;
        if (sel.kind === Kind.FIELD) {
          const below = sel.selectionSet ? measure(sel.selectionSet) : { depth: 0, aliases: 0 };
          inner = { depth: below.depth + 1, aliases: below.aliases + (sel.alias ? 1 : 0) };
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(sel.selectionSet);
        } else {
          inner = measureFragment(sel.name.value);
        }
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
      }
      return { depth, aliases };
    };
    const measureFragment = (name: string): Size => {
      const known = measured.get(name);
      if (known) return known;
      const fragment = fragments.get(name);
      if (!fragment || open.has(name)) return { depth: 0, aliases: 0 };
      open.add(name);
      const size = measure(fragment.selectionSet);
      open.delete(name);
      measured.set(name, size);
      return size;
    };

    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const { depth, aliases } = measure(op.selectionSet);
        const name = op.name ? `Operation "${op.name.value}"` : 'The operation';
        if (depth > limits.maxDepth) {
          context.reportError(new GraphQLError(`${name} is nested more than ${limits.maxDepth} levels deep`, { nodes: [op] }));
        }
        if (aliases > limits.maxAliases) {
          context.reportError(new GraphQLError(`${name} uses more than ${limits.maxAliases} aliases`, { nodes: [op] }));
        }
        return false;
      },
    };
  };
}
