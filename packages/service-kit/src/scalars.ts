import { GraphQLError, GraphQLScalarType, type GraphQLScalarTypeConfig, type ValueNode } from 'graphql';
import { GraphQLDateTime, GraphQLLocalDate, GraphQLLocalTime } from 'graphql-scalars';

/**
 * Dates and instants a client may send: 1900 to 2100. Outside it nothing in a gym makes
 * sense, and some values cannot be read back (a program starting 9999-12-01 for 104 weeks
 * ends in year 10001, which no DATE column or ISO string holds).
 */
export const DATE_RANGE = { min: '1900-01-01', max: '2100-12-31' } as const;

// A refused literal carries its node, so that the refusal can name the argument it sits in (see input-paths.ts).
const refused = (message: string, node?: ValueNode) => new GraphQLError(message, { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
const outOfRange = (name: string, value: string, node?: ValueNode) =>
  refused(`${name} must be between ${DATE_RANGE.min} and ${DATE_RANGE.max}, got ${JSON.stringify(value)}`, node);

/**
 * The base scalar, with its input (variables and literals) held to DATE_RANGE by the calendar
 * day it names. A literal it refuses is BAD_USER_INPUT, as the same value in a variable is.
 */
function withinRange<T>(base: GraphQLScalarTypeConfig<T, unknown>, name: string, day: (parsed: T) => string): GraphQLScalarType<T, unknown> {
  const check = (parsed: T, raw: unknown, node?: ValueNode) => {
    const d = day(parsed);
    if (d < DATE_RANGE.min || d > DATE_RANGE.max) throw outOfRange(name, String(raw), node);
    return parsed;
  };
  const parseLiteral = (ast: ValueNode, variables?: Record<string, unknown> | null): T => {
    try {
      return base.parseLiteral!(ast, variables);
    } catch (err) {
      throw refused(
        `${name} cannot represent ${'value' in ast ? JSON.stringify(ast.value) : ast.kind}: ${err instanceof Error ? err.message : String(err)}`,
        ast,
      );
    }
  };
  return new GraphQLScalarType<T, unknown>({
    ...base,
    name,
    parseValue: (value) => check(base.parseValue!(value), value),
    parseLiteral: (ast, variables) => check(parseLiteral(ast, variables), 'value' in ast ? ast.value : ast.kind, ast),
  });
}

/** `Date`: a calendar day, 'YYYY-MM-DD', kept as a string end to end (no time-zone shift). */
export const DateScalar = withinRange(GraphQLLocalDate.toConfig() as GraphQLScalarTypeConfig<string, unknown>, 'Date', (d) => d);
/** `Time`: a wall-clock time, 'HH:mm' or 'HH:mm:ss'. */
export const TimeScalar = new GraphQLScalarType({ ...GraphQLLocalTime.toConfig(), name: 'Time' });
/** `DateTime`: an instant, ISO 8601 with offset. */
export const DateTimeScalar = withinRange(GraphQLDateTime.toConfig() as GraphQLScalarTypeConfig<Date, unknown>, 'DateTime', (d) =>
  d.toISOString().slice(0, 10),
);

export const scalarResolvers = { Date: DateScalar, Time: TimeScalar, DateTime: DateTimeScalar };
