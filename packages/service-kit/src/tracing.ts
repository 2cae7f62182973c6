import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracingEnabled } from './telemetry.js';

const tracer = () => trace.getTracer('@fitsync/service-kit');

/**
 * A client span for one SQL statement on PGlite, which has no instrumentation of its own
 * (Postgres statements get theirs from the pg instrumentation). The statement's text is
 * recorded, never its parameters. Only inside a trace: background polls make no trace of
 * their own. With tracing off this is one boolean test.
 */
export async function tracedStatement<T>(sql: string, run: () => Promise<T>): Promise<T> {
  if (!tracingEnabled() || !trace.getActiveSpan()) return run();
  const operation = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
  return tracer().startActiveSpan(
    `pglite.query:${operation}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'db.system': 'postgresql', 'db.operation.name': operation, 'db.query.text': sql, 'db.statement': sql },
    },
    async (span) => {
      try {
        return await run();
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Records the request's correlation id on the span serving it (the HTTP server span). */
export function recordCorrelationId(id: string): void {
  if (tracingEnabled()) trace.getActiveSpan()?.setAttribute('fitsync.correlation_id', id);
}
