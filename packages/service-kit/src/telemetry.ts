/**
 * Tracing (OpenTelemetry), configured only by the standard `OTEL_*` variables.
 *
 * A service's entry point calls `startTelemetry` before it imports anything else (the
 * instrumentations patch `http`, `pg` and `ioredis` as they are loaded, so these must not be
 * loaded yet). Without an OTLP endpoint nothing is loaded at all: this module imports no
 * OpenTelemetry package, and the SDK is imported only once tracing is on.
 *
 * A wrong value never stops a service: it is named in a warning and replaced by its default
 * (or, for the endpoint, tracing stays off).
 */
import type { Logger } from 'pino';
import { createLogger } from './logger.js';

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];
export const PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof PROTOCOLS)[number];

/** What the SDK is started with, once the variables are read. */
export interface TracingSettings {
  /** Where spans go: the full OTLP/HTTP traces URL. */
  tracesUrl: string;
  protocol: OtlpProtocol;
  sampler: SamplerName;
  /** For the `*traceidratio` samplers: the share of traces kept. */
  ratio: number;
  serviceName: string;
  /**
   * The gateway only: whether a client's `traceparent` continues the client's trace. Off, every
   * client operation starts a new trace (a caller cannot force sampling or join another trace).
   */
  trustIncomingTraceparent: boolean;
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

function readBoolean(env: NodeJS.ProcessEnv, name: string, warnings: string[]): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return undefined;
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  warnings.push(`${name}="${env[name]}" is not true or false: taken as false`);
  return undefined;
}

function readUrl(env: NodeJS.ProcessEnv, name: string, warnings: string[]): URL | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  warnings.push(`${name}="${raw}" is not an http(s) URL: tracing stays off`);
  return undefined;
}

/** The service name every span of this process carries by default: `fitsync-<service>`. */
export const defaultServiceName = (service: string) => `fitsync-${service}`;

/**
 * Reads the OTEL_* variables the way the OpenTelemetry specification defines them, without
 * loading the SDK. `settings` is undefined when tracing is off (no endpoint, `OTEL_SDK_DISABLED`,
 * `OTEL_TRACES_EXPORTER=none`, or an endpoint that is not a URL); `warnings` names every
 * variable whose value was not understood, with what was used instead.
 */
export function readTracingSettings(service: string, env: NodeJS.ProcessEnv = process.env): { settings?: TracingSettings; warnings: string[] } {
  const warnings: string[] = [];
  if (readBoolean(env, 'OTEL_SDK_DISABLED', warnings)) return { warnings };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return { warnings };
  const unknownExporters = exporters.filter((e) => e !== 'otlp');
  if (unknownExporters.length) warnings.push(`OTEL_TRACES_EXPORTER="${env.OTEL_TRACES_EXPORTER}": only otlp is supported here; using otlp`);

  // The signal-specific endpoint is used as it is; the general one gets /v1/traces appended.
  const specific = readUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', warnings);
  const general = specific ? undefined : readUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', warnings);
  const tracesUrl = specific ? specific.href : general ? `${general.href.replace(/\/+$/, '')}/v1/traces` : undefined;

  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const rawProtocol = env[protocolVariable]?.trim();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (rawProtocol) {
    if ((PROTOCOLS as readonly string[]).includes(rawProtocol)) protocol = rawProtocol as OtlpProtocol;
    else warnings.push(`${protocolVariable}="${rawProtocol}" is not supported (http/protobuf or http/json): using http/protobuf`);
  }

  const rawSampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  let sampler: SamplerName = 'parentbased_always_on';
  if (rawSampler) {
    if ((SAMPLERS as readonly string[]).includes(rawSampler)) sampler = rawSampler as SamplerName;
    else warnings.push(`OTEL_TRACES_SAMPLER="${env.OTEL_TRACES_SAMPLER}" is not one of ${SAMPLERS.join(', ')}: using parentbased_always_on`);
  }
  let ratio = 1;
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (rawRatio && sampler.endsWith('traceidratio')) {
    const n = Number(rawRatio);
    if (Number.isFinite(n) && n >= 0 && n <= 1) ratio = n;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG="${rawRatio}" is not a number from 0 to 1: using 1`);
  }

  const trustIncomingTraceparent = readBoolean(env, 'OTEL_TRUST_INCOMING_TRACEPARENT', warnings) ?? false;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || defaultServiceName(service);
  if (!tracesUrl) return { warnings };
  return { settings: { tracesUrl, protocol, sampler, ratio, serviceName, trustIncomingTraceparent }, warnings };
}

/** The SDK of this process once started (see telemetry-sdk.ts). */
export interface RunningTelemetry {
  settings: TracingSettings;
  /** Exports what is buffered and stops; never takes longer than `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

let running: RunningTelemetry | undefined;

/** The service's logger before its config is read: a LOG_LEVEL the config will refuse is not this module's to report. */
function safeLogger(service: string, level: string | undefined): Logger {
  try {
    return createLogger(service, level?.trim() || 'info');
  } catch {
    return createLogger(service, 'info');
  }
}

/** Whether this process records spans (for the few spans the code makes itself, which cost nothing when off). */
export const tracingEnabled = () => running !== undefined;

/**
 * Starts tracing for this process when the OTEL_* variables ask for it; call it first thing in
 * an entry point, then import the service. Resolves once the instrumentations are in place
 * (or at once when tracing is off). Never throws: a problem is logged and tracing stays off.
 */
export async function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<RunningTelemetry | undefined> {
  if (running) return running;
  const { settings, warnings } = readTracingSettings(service, env);
  if (warnings.length || settings) log ??= safeLogger(service, env.LOG_LEVEL);
  for (const w of warnings) log?.warn({ tracing: true }, w);
  if (!settings) return undefined;
  try {
    const { startSdk } = await import('./telemetry-sdk.js');
    running = await startSdk(service, settings, log!);
    log!.info({ tracesUrl: settings.tracesUrl, protocol: settings.protocol, sampler: settings.sampler, serviceName: settings.serviceName }, 'tracing on');
    return running;
  } catch (err) {
    log!.warn({ err }, 'tracing could not start: it stays off');
    return undefined;
  }
}

/** Flushes and stops tracing (on shutdown); bounded, so an OTLP endpoint that is down never holds the exit. */
export async function shutdownTelemetry(timeoutMs = 2_000): Promise<void> {
  const r = running;
  running = undefined;
  await r?.shutdown(timeoutMs);
}
