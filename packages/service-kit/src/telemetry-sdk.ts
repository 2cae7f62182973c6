/**
 * The OpenTelemetry SDK of one process, imported by telemetry.ts only when tracing is on.
 *
 * Spans leave through a BatchSpanProcessor: a request only appends to its queue, and an OTLP
 * endpoint that is down or slow costs the dropped spans (the queue is bounded), never a
 * request's time. The exporter's own requests are not traced.
 */
import { register } from 'node:module';
import { diag, DiagLogLevel, trace, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { RunningTelemetry, TracingSettings } from './telemetry.js';

/** Paths probed every few seconds (health checks, scrapes): no trace of their own. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * graphql-js parsing and validating outside any request (building schemas at start-up, the
 * query planner reading the supergraph) would each be a trace of one span: not recorded.
 */
class RequestsOnly implements Sampler {
  constructor(readonly inner: Sampler) {}
  shouldSample(...args: Parameters<Sampler['shouldSample']>) {
    const [ctx, , name] = args;
    if (name.startsWith('graphql.') && !trace.getSpanContext(ctx)) return { decision: SamplingDecision.NOT_RECORD };
    return this.inner.shouldSample(...args);
  }
  toString() {
    return `RequestsOnly{${this.inner.toString()}}`;
  }
}

function sampler(settings: TracingSettings): Sampler {
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(settings.ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * W3C trace context that is written into outgoing requests but never read from incoming ones:
 * the gateway's, unless OTEL_TRUST_INCOMING_TRACEPARENT is set. A client then cannot join
 * another trace or force sampling; each client operation starts its own trace.
 */
class InjectOnlyPropagator implements TextMapPropagator {
  readonly #w3c = new W3CTraceContextPropagator();
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter) {
    this.#w3c.inject(ctx, carrier, setter);
  }
  extract(ctx: Context, _carrier: unknown, _getter: TextMapGetter): Context {
    return ctx;
  }
  fields() {
    return this.#w3c.fields();
  }
}

/** The SDK's own complaints (an export that failed, a bad header variable) in the service's log, each distinct one once. */
function diagnostics(log: Logger) {
  const seen = new Set<string>();
  const once =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) => {
      const key = `${level}:${message}`.slice(0, 200);
      if (seen.has(key) || seen.size > 100) return;
      seen.add(key);
      const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : '')).filter(Boolean);
      log[level]({ tracing: true, detail: detail.length ? detail.join('; ').slice(0, 500) : undefined }, `OpenTelemetry: ${message}`);
    };
  const ignore = () => undefined;
  diag.setLogger({ error: once('error'), warn: once('warn'), info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
}

export async function startSdk(service: string, settings: TracingSettings, log: Logger): Promise<RunningTelemetry> {
  diagnostics(log);
  // ESM imports (`import http from 'node:http'`) go through import-in-the-middle's loader hook;
  // the instrumentations' require hooks see only CommonJS requires (pg, ioredis). The hook
  // wraps only the modules an instrumentation asked for: wrapping every module breaks
  // re-exports the services rely on.
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const [{ NodeSDK }, { HttpInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }, { GraphQLInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-graphql'),
    ]);
  const exporter =
    settings.protocol === 'http/json' ? new OTLPJsonTraceExporter({ url: settings.tracesUrl }) : new OTLPProtoTraceExporter({ url: settings.tracesUrl });
  const isGateway = service === 'gateway';
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    resource: resourceFromAttributes({ 'service.namespace': 'fitsync', 'fitsync.service': service }),
    sampler: new RequestsOnly(sampler(settings)),
    spanProcessors: [new BatchSpanProcessor(exporter)],
    textMapPropagator: isGateway && !settings.trustIncomingTraceparent ? new InjectOnlyPropagator() : new W3CTraceContextPropagator(),
    // Traces only: metrics are Prometheus's (/metrics), logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]),
        // Background work (relay polls, consumers' reads) has no request around it: no span of its own.
        requireParentforOutgoingSpans: true,
        headersToSpanAttributes: { server: { requestHeaders: ['x-correlation-id'] } },
      }),
      // fetch(): the service clients' calls to other subgraphs.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // A subgraph's resolvers; the gateway's own steps (validate, plan, fetch, execute) are @apollo/gateway's spans.
      ...(isGateway ? [] : [new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true })]),
    ],
  });
  sdk.start();
  // The loader has heard of every hooked module before the service imports any of them.
  await waitForAllMessagesAcknowledged();
  return {
    settings,
    async shutdown(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
