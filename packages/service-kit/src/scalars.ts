import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTime, GraphQLLocalDate, GraphQLLocalTime } from 'graphql-scalars';

/** `Date`: a calendar day, 'YYYY-MM-DD', kept as a string end to end (no time-zone shift). */
export const DateScalar = new GraphQLScalarType({ ...GraphQLLocalDate.toConfig(), name: 'Date' });
/** `Time`: a wall-clock time, 'HH:mm' or 'HH:mm:ss'. */
export const TimeScalar = new GraphQLScalarType({ ...GraphQLLocalTime.toConfig(), name: 'Time' });
/** `DateTime`: an instant, ISO 8601 with offset. */
export const DateTimeScalar = new GraphQLScalarType({ ...GraphQLDateTime.toConfig(), name: 'DateTime' });

export const scalarResolvers = { Date: DateScalar, Time: TimeScalar, DateTime: DateTimeScalar };
