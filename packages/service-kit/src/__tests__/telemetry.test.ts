// The OTEL_* variables as the services read them: unset means off; a wrong value is named in a
// warning and replaced by its default, and never stops the service.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readTracingSettings, startTelemetry } from '../telemetry.js';

describe('readTracingSettings', () => {
  it('is off with no endpoint, with OTEL_SDK_DISABLED and with OTEL_TRACES_EXPORTER=none', () => {
    expect(readTracingSettings('users', {})).toEqual({ warnings: [] });
    expect(readTracingSettings('users', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).settings).toBeUndefined();
    expect(readTracingSettings('users', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).settings).toBeUndefined();
  });

  it('reads the standard variables', () => {
    expect(
      readTracingSettings('schedule', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toEqual({
      settings: {
        tracesUrl: 'http://collector:4318/v1/traces',
        protocol: 'http/json',
        sampler: 'parentbased_traceidratio',
        ratio: 0.25,
        serviceName: 'fitsync-schedule',
        trustIncomingTraceparent: false,
      },
      warnings: [],
    });
    const specific = readTracingSettings('gateway', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/otlp/traces',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'edge',
      OTEL_TRUST_INCOMING_TRACEPARENT: 'true',
    }).settings;
    expect(specific).toMatchObject({
      tracesUrl: 'https://collector.example/otlp/traces',
      protocol: 'http/protobuf',
      sampler: 'parentbased_always_on',
      serviceName: 'edge',
      trustIncomingTraceparent: true,
    });
  });

  it('names every wrong variable and goes on with its default', () => {
    const { settings, warnings } = readTracingSettings('progress', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_TRUST_INCOMING_TRACEPARENT: 'perhaps',
    });
    expect(settings).toMatchObject({ protocol: 'http/protobuf', sampler: 'parentbased_always_on', ratio: 1, trustIncomingTraceparent: false });
    expect(warnings).toHaveLength(4);
    for (const variable of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_EXPORTER', 'OTEL_TRUST_INCOMING_TRACEPARENT'])
      expect(warnings.some((w) => w.startsWith(`${variable}=`))).toBe(true);
    const ratio = readTracingSettings('progress', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '7',
    });
    expect(ratio.settings?.ratio).toBe(1);
    expect(ratio.warnings).toEqual(['OTEL_TRACES_SAMPLER_ARG="7" is not a number from 0 to 1: using 1']);
  });

  it('stays off, with a warning, for an endpoint that is not a URL', () => {
    for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
      const { settings, warnings } = readTracingSettings('users', { [variable]: 'collector:4318 ' });
      expect(settings).toBeUndefined();
      expect(warnings).toEqual([`${variable}="collector:4318" is not an http(s) URL: tracing stays off`]);
    }
  });
});

describe('startTelemetry', () => {
  it('resolves without tracing, having logged the variable, when the endpoint is wrong', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    await expect(startTelemetry('users', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, log)).resolves.toBeUndefined();
    expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string })).toEqual([
      expect.objectContaining({ level: 40, msg: 'OTEL_EXPORTER_OTLP_ENDPOINT="not a url" is not an http(s) URL: tracing stays off' }),
    ]);
  });
});
