/**
 * Trace context across events: an envelope written during a traced request carries that
 * request's W3C `traceparent`; the relay's publish joins that trace, and each consumer starts
 * its own trace linked to it (an event is handled later, perhaps many times: a child span
 * would stretch the request's trace over retries and replays).
 *
 * Without a tracer provider (tracing off) no span is recording, nothing is written into
 * envelopes, and these spans cost a no-op object.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const w3c = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('@fitsync/events');

/** `traceparent` of the active span, when there is one to continue. */
export function currentTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span || !span.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier.traceparent;
}

/** The span context a `traceparent` names (undefined for none or a malformed one). */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  if (!traceparent) return undefined;
  const extracted = w3c.extract(ROOT_CONTEXT, { traceparent }, { get: (c, k) => c[k], keys: (c) => Object.keys(c) });
  const sc = trace.getSpanContext(extracted);
  return sc && trace.isSpanContextValid(sc) ? sc : undefined;
}

/** A context whose parent is the given traceparent's span (or the root context). */
export function contextOf(traceparent: string | undefined): Context {
  const sc = spanContextOf(traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** Links to the span that wrote an event (none when it carried no trace context). */
export function linksTo(traceparent: string | undefined): Link[] {
  const sc = spanContextOf(traceparent);
  return sc ? [{ context: sc, attributes: { 'fitsync.link': 'caused by' } }] : [];
}

/**
 * Runs `fn` in a new span (parent `parent`, default: a new trace), ending it when `fn` settles;
 * a rejection is recorded on the span and rethrown.
 */
export async function inSpan<T>(
  name: string,
  opts: { kind: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { kind: opts.kind, attributes: opts.attributes, links: opts.links, root: !opts.parent },
    opts.parent ?? ROOT_CONTEXT,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

export { SpanKind };
