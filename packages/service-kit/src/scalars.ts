import { GraphQLError, GraphQLScalarType, type GraphQLScalarTypeConfig } from 'graphql';
import { GraphQLDateTime, GraphQLLocalDate, GraphQLLocalTime } from 'graphql-scalars';

/**
 * Dates and instants a client may send: 1900 to 2100. Outside it nothing in a gym makes
 * sense, and some values cannot be read back (a program starting 9999-12-01 for 104 weeks
 * ends in year 10001, which no DATE column or ISO string holds).
 */
export const DATE_RANGE = { min: '1900-01-01', max: '2100-12-31' } as const;

const outOfRange = (name: string, value: string) =>
  new GraphQLError(`${name} must be between ${DATE_RANGE.min} and ${DATE_RANGE.max}, got ${JSON.stringify(value)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });

/** The base scalar, with its input (variables and literals) held to DATE_RANGE by the calendar day it names. */
function withinRange<T>(base: GraphQLScalarTypeConfig<T, unknown>, name: string, day: (parsed: T) => string): GraphQLScalarType<T, unknown> {
  const check = (parsed: T, raw: unknown) => {
    const d = day(parsed);
    if (d < DATE_RANGE.min || d > DATE_RANGE.max) throw outOfRange(name, String(raw));
    return parsed;
  };
  return new GraphQLScalarType<T, unknown>({
    ...base,
    name,
    parseValue: (value) => check(base.parseValue!(value), value),
    parseLiteral: (ast, variables) => check(base.parseLiteral!(ast, variables), 'value' in ast ? ast.value : ast.kind),
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
