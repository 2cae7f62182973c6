import { Supergraph } from '@apollo/federation-internals';
import { ErrorCode, LIMITS } from '@fitsync/service-kit';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isInputObjectType,
  isListType,
  valueFromASTUntyped,
  type ArgumentNode,
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** Where the schema's `@cost` and `@listSize` are, by the names it gives them (`@link(... import:)`). */
export interface CostDirectiveNames {
  cost: string;
  listSize: string;
}

export interface CostOptions {
  /** Size of a list field without `@listSize`, and of one whose `@listSize` gives no size. Default LIMITS.page, the cap every subgraph puts on such lists. */
  defaultListSize: number;
  /** Largest size a slicing argument counts for: LIMITS.page, the largest `first` the subgraphs accept (they refuse more). */
  maxListSize: number;
  /** Weight of a root mutation field without `@cost` (the spec's default 10). */
  mutationWeight: number;
}

export const DEFAULT_COST_OPTIONS: CostOptions = { defaultListSize: LIMITS.page, maxListSize: LIMITS.page, mutationWeight: 10 };

/** A document the cost cannot be computed for (a `@listSize` rule it breaks): the client's mistake. */
export class CostError extends Error {}

interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
  requireOneSlicingArgument: boolean;
}

type Variables = Readonly<Record<string, unknown>>;
/** A field, argument, input field or type: what may carry a `@cost`. */
type SchemaElement = {
  astNode?: { directives?: readonly ConstDirectiveNode[] } | null;
  extensionASTNodes?: readonly { directives?: readonly ConstDirectiveNode[] }[];
};
/** Sizes a parent's `@listSize(sizedFields:)` gives its child fields, by field name. */
type UpstreamSizes = ReadonlyMap<string, number> | undefined;

/**
 * The static cost of operations against one schema, by the IBM GraphQL cost specification as
 * Apollo Federation carries it (`@cost(weight:)`, `@listSize(assumedSize:, slicingArguments:,
 * sizedFields:, requireOneSlicingArgument:)`, https://specs.apollo.dev/cost/v0.1):
 *
 * - a field costs its weight (its own `@cost`, else its type's, else 1 for an object,
 *   interface or union and 0 for a scalar or enum; a root mutation field 10) plus the cost of
 *   its selection, times its list size when it is a list, plus the weights of the arguments
 *   (and input fields) it is given;
 * - a list's size is the largest slicing argument given (a literal, a variable, else the
 *   argument's default), at most `maxListSize`; else its `assumedSize`; else the size a parent's
 *   `sizedFields` hands it; else `defaultListSize`;
 * - fields are merged by response key as execution merges them (two fragments selecting the
 *   same field cost it once), `@skip`/`@include` are honoured, and a selection on an interface
 *   or union costs what it costs on the most expensive of its possible types.
 */
/** Variable sets remembered per operation (see CostCalculator#estimates). */
const ESTIMATES_PER_OPERATION = 64;

export class CostCalculator {
  readonly #schema: GraphQLSchema;
  readonly #names: CostDirectiveNames;
  readonly #options: CostOptions;
  // The directives read once per schema element (null: it has none), not at every operation.
  readonly #weights = new WeakMap<SchemaElement, number | null>();
  readonly #listSizes = new WeakMap<GraphQLField<unknown, unknown>, ListSize | null>();
  /**
   * Estimates by operation (Apollo Server hands every request of one document the same parsed
   * and validated nodes) and variables: a dashboard's document is walked once, not per request.
   * Dies with the calculator, which a new supergraph replaces.
   */
  readonly #estimates = new WeakMap<OperationDefinitionNode, Map<string, number>>();

  constructor(schema: GraphQLSchema, names: CostDirectiveNames = { cost: 'cost', listSize: 'listSize' }, options: Partial<CostOptions> = {}) {
    this.#schema = schema;
    this.#names = names;
    this.#options = { ...DEFAULT_COST_OPTIONS, ...options };
  }

  /**
   * The calculator of a supergraph: the directives composition keeps there, under the names
   * its `@link` to the cost spec gives them. A supergraph without that link costs by the defaults.
   */
  static fromSupergraph(supergraphSdl: string | Supergraph, options: Partial<CostOptions> = {}): CostCalculator {
    const supergraph = typeof supergraphSdl === 'string' ? Supergraph.build(supergraphSdl) : supergraphSdl;
    const feature = supergraph.schema.coreFeatures?.getByIdentity('https://specs.apollo.dev/cost');
    const names = feature
      ? { cost: feature.directiveNameInSchema('cost'), listSize: feature.directiveNameInSchema('listSize') }
      : { cost: 'cost', listSize: 'listSize' };
    return new CostCalculator(supergraph.schema.toGraphQLJSSchema(), names, options);
  }

  /**
   * The cost of `operation` (a validated one of `document`) with these variables (as the client
   * sent them; variable defaults fill the rest). Throws CostError for a field missing the one
   * slicing argument its `@listSize` requires.
   */
  estimate(document: DocumentNode, operation: OperationDefinitionNode, variables: Variables = {}): number {
    // Without variable definitions no variable can change the cost (a valid document uses only those it defines).
    const key = operation.variableDefinitions?.length ? JSON.stringify(variables) : '';
    let known = this.#estimates.get(operation);
    const cached = known?.get(key);
    if (cached !== undefined) return cached;
    const estimated = this.#estimate(document, operation, variables);
    if (!known) this.#estimates.set(operation, (known = new Map()));
    // Bounded: a client sending ever new variables gets estimates, not a growing cache.
    if (known.size >= ESTIMATES_PER_OPERATION) known.clear();
    known.set(key, estimated);
    return estimated;
  }

  #estimate(document: DocumentNode, operation: OperationDefinitionNode, variables: Variables): number {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const vars: Record<string, unknown> = { ...variables };
    for (const v of operation.variableDefinitions ?? []) {
      if (vars[v.variable.name.value] === undefined && v.defaultValue) vars[v.variable.name.value] = valueFromASTUntyped(v.defaultValue);
    }
    const root = this.#schema.getRootType(operation.operation);
    if (!root) return 0;
    const walk = new Walk(this, fragments, vars, operation.operation === OperationTypeNode.MUTATION ? root : undefined);
    return walk.selections(root, [operation.selectionSet], undefined);
  }

  /** `@cost(weight:)` on a field, argument, input field or type, when there is one. */
  weightOf(element: SchemaElement): number | undefined {
    let weight = this.#weights.get(element);
    if (weight === undefined) {
      const directive = findDirective(element, this.#names.cost);
      weight = (directive && intArgument(directive, 'weight')) ?? null;
      this.#weights.set(element, weight);
    }
    return weight ?? undefined;
  }

  /** `@listSize` of a field, when it has one. */
  listSizeOf(field: GraphQLField<unknown, unknown>): ListSize | undefined {
    let listSize = this.#listSizes.get(field);
    if (listSize === undefined) this.#listSizes.set(field, (listSize = this.#readListSize(field) ?? null));
    return listSize ?? undefined;
  }

  #readListSize(field: GraphQLField<unknown, unknown>): ListSize | undefined {
    const directive = findDirective(field, this.#names.listSize);
    if (!directive) return undefined;
    const args = new Map(directive.arguments?.map((a) => [a.name.value, a.value]) ?? []);
    const strings = (name: string) => {
      const v = args.get(name);
      return v?.kind === Kind.LIST ? v.values.flatMap((x) => (x.kind === Kind.STRING ? [x.value] : [])) : undefined;
    };
    const require = args.get('requireOneSlicingArgument');
    return {
      assumedSize: intArgument(directive, 'assumedSize'),
      slicingArguments: strings('slicingArguments'),
      sizedFields: strings('sizedFields'),
      requireOneSlicingArgument: require?.kind === Kind.BOOLEAN ? require.value : true,
    };
  }

  get schema() {
    return this.#schema;
  }

  get options(): Readonly<CostOptions> {
    return this.#options;
  }
}

/** One estimate: the document's fragments and the operation's variables. */
class Walk {
  constructor(
    private readonly calc: CostCalculator,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Variables,
    /** The mutation root, whose fields weigh `mutationWeight` by default. */
    private readonly mutationRoot: GraphQLObjectType | undefined,
  ) {}

  /** Selection sets that meet on one field (merged by response key), on `type`: the most expensive of its possible types. */
  selections(type: GraphQLNamedType, sets: readonly SelectionSetNode[], upstream: UpstreamSizes): number {
    if (!isCompositeType(type)) return 0;
    const possible = isAbstractType(type) ? this.calc.schema.getPossibleTypes(type) : [type];
    let most = 0;
    for (const concrete of possible) {
      let sum = 0;
      for (const nodes of this.#collect(concrete, sets).values()) sum += this.#field(concrete, nodes, upstream);
      most = Math.max(most, sum);
    }
    return most;
  }

  /** graphql-js's collectFields for one concrete type, over several selection sets at once. */
  #collect(type: GraphQLObjectType, sets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const visit = (set: SelectionSetNode) => {
      for (const s of set.selections) {
        if (!this.#included(s.directives)) continue;
        if (s.kind === Kind.FIELD) {
          const key = s.alias?.value ?? s.name.value;
          const list = fields.get(key);
          if (list) list.push(s);
          else fields.set(key, [s]);
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          if (!s.typeCondition || this.#applies(s.typeCondition.name.value, type)) visit(s.selectionSet);
        } else {
          const name = s.name.value;
          const fragment = this.fragments.get(name);
          if (visited.has(name) || !fragment || !this.#applies(fragment.typeCondition.name.value, type)) continue;
          visited.add(name);
          visit(fragment.selectionSet);
        }
      }
    };
    for (const set of sets) visit(set);
    return fields;
  }

  #applies(condition: string, type: GraphQLObjectType): boolean {
    const conditionType = this.calc.schema.getType(condition);
    if (!conditionType) return false;
    if (conditionType === type) return true;
    return isAbstractType(conditionType) && this.calc.schema.isSubType(conditionType, type);
  }

  /** `@skip(if:)` / `@include(if:)`, literal or variable; anything else keeps the selection (counted, to stay an upper bound). */
  #included(directives: readonly DirectiveNode[] | undefined): boolean {
    for (const d of directives ?? []) {
      if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
      const arg = d.arguments?.find((a) => a.name.value === 'if');
      const value = arg && this.#value(arg.value);
      if (d.name.value === 'skip' && value === true) return false;
      if (d.name.value === 'include' && value === false) return false;
    }
    return true;
  }

  #value(node: ValueNode): unknown {
    return valueFromASTUntyped(node, this.variables);
  }

  #field(parent: GraphQLObjectType, nodes: FieldNode[], upstream: UpstreamSizes): number {
    const node = nodes[0];
    const name = node.name.value;
    if (name.startsWith('__')) return 0;
    const def = parent.getFields()[name];
    if (!def) return 0;
    const type = getNamedType(def.type);
    const weight =
      this.calc.weightOf(def) ??
      (parent === this.mutationRoot ? this.calc.options.mutationWeight : undefined) ??
      this.calc.weightOf(type) ??
      (isCompositeType(type) ? 1 : 0);
    const listSize = this.calc.listSizeOf(def);
    const sliced = listSize ? this.#sliced(def, node, listSize) : undefined;
    const size = sliced ?? listSize?.assumedSize;
    const childSizes = listSize?.sizedFields && size !== undefined ? new Map(listSize.sizedFields.map((f) => [f, size])) : undefined;
    const sets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    const each = weight + (sets.length > 0 ? this.selections(type, sets, childSizes) : 0);
    const isList = isListType(getNullableType(def.type));
    // With sizedFields, the size is the sized children's; the field itself is one object.
    const ownSize = listSize?.sizedFields ? listSize.assumedSize : size;
    const instances = !isList ? 1 : (upstream?.get(name) ?? ownSize ?? this.calc.options.defaultListSize);
    return instances * each + this.#arguments(def.args, node.arguments ?? []);
  }

  /** The largest slicing argument given (or defaulted), within 0..maxListSize; undefined when none is. */
  #sliced(def: GraphQLField<unknown, unknown>, node: FieldNode, listSize: ListSize): number | undefined {
    const names = listSize.slicingArguments;
    if (!names || names.length === 0) return undefined;
    const values: number[] = [];
    for (const argName of names) {
      const given = node.arguments?.find((a) => a.name.value === argName);
      let value = given ? this.#value(given.value) : undefined;
      if (value === undefined || value === null) value = def.args.find((a) => a.name === argName)?.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) values.push(Math.min(Math.max(Math.trunc(value), 0), this.calc.options.maxListSize));
    }
    if (listSize.requireOneSlicingArgument && values.length !== 1) {
      throw new CostError(`${def.name} needs exactly one of its arguments ${names.join(', ')}, got ${values.length}`);
    }
    return values.length > 0 ? Math.max(...values) : undefined;
  }

  /** `@cost` of each argument given, and of the input fields set inside it. */
  #arguments(defs: readonly GraphQLArgument[], given: readonly ArgumentNode[]): number {
    let sum = 0;
    for (const arg of given) {
      const def = defs.find((d) => d.name === arg.name.value);
      if (def) sum += (this.calc.weightOf(def) ?? 0) + this.#input(def.type, this.#value(arg.value));
    }
    return sum;
  }

  #input(type: GraphQLInputType, value: unknown): number {
    const named = getNullableType(type);
    if (isListType(named))
      return Array.isArray(value) ? value.reduce<number>((sum, item) => sum + this.#input(named.ofType, item), 0) : this.#input(named.ofType, value);
    if (!isInputObjectType(named) || value === null || typeof value !== 'object') return 0;
    let sum = 0;
    const fields: Record<string, GraphQLInputField> = named.getFields();
    for (const [key, inner] of Object.entries(value)) {
      const field = fields[key];
      if (field) sum += (this.calc.weightOf(field) ?? 0) + this.#input(field.type, inner);
    }
    return sum;
  }
}

function findDirective(element: SchemaElement, name: string): ConstDirectiveNode | undefined {
  for (const node of [element.astNode, ...(element.extensionASTNodes ?? [])]) {
    const found = node?.directives?.find((d) => d.name.value === name);
    if (found) return found;
  }
  return undefined;
}

function intArgument(directive: ConstDirectiveNode, name: string): number | undefined {
  const v = directive.arguments?.find((a) => a.name.value === name)?.value;
  return v?.kind === Kind.INT ? Number(v.value) : undefined;
}

/** COST_LIMIT_EXCEEDED, naming the cost and the budget. */
export function costLimitExceeded(operationName: string | null | undefined, estimated: number, max: number): GraphQLError {
  const name = operationName ? `Operation "${operationName}"` : 'The operation';
  return new GraphQLError(`${name} costs ${estimated}, over the budget of ${max} (MAX_OPERATION_COST)`, {
    extensions: { code: ErrorCode.COST_LIMIT_EXCEEDED, cost: { estimated, max }, http: { status: 400 } },
  });
}
