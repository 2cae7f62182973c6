// A real OTLP/HTTP trace receiver for tests: it decodes what the services' exporters send,
// as JSON (http/json) or protobuf (http/protobuf, read with a small wire-format reader), and
// keeps every span with the service that sent it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ReceivedSpan {
  /** `service.name` of the resource that sent it. */
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

export interface OtlpReceiver {
  /** The base endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  contentTypes: string[];
  /** Export requests held unanswered (`hold: true`). */
  held(): number;
  close(): Promise<void>;
}

// ---------- OTLP JSON ----------

interface JsonValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value: JsonValue;
}
const jsonAttributes = (kvs: JsonKeyValue[] = []) =>
  Object.fromEntries(
    kvs.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue))]),
  );

function fromJson(body: Buffer): ReceivedSpan[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceSpans: {
      resource: { attributes: JsonKeyValue[] };
      scopeSpans: {
        spans: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          attributes?: JsonKeyValue[];
          links?: { traceId: string; spanId: string }[];
        }[];
      }[];
    }[];
  };
  return doc.resourceSpans.flatMap((rs) => {
    const service = String(jsonAttributes(rs.resource.attributes)['service.name']);
    return rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        service,
        traceId: s.traceId,
        spanId: s.spanId,
        ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
        name: s.name,
        attributes: jsonAttributes(s.attributes),
        links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
      })),
    );
  });
}

// ---------- OTLP protobuf (opentelemetry/proto/collector/trace/v1) ----------

/** The fields of one protobuf message: field number to its values (varints as bigint, length-delimited as bytes). */
function protoFields(buf: Buffer): Map<number, (bigint | Buffer)[]> {
  const fields = new Map<number, (bigint | Buffer)[]>();
  let pos = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    let value: bigint | Buffer;
    switch (key & 7) {
      case 0:
        value = varint();
        break;
      case 1:
        value = buf.subarray(pos, (pos += 8));
        break;
      case 2: {
        const len = Number(varint());
        value = buf.subarray(pos, (pos += len));
        break;
      }
      case 5:
        value = buf.subarray(pos, (pos += 4));
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const bytes = (f: Map<number, (bigint | Buffer)[]>, n: number) => (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));
const first = (f: Map<number, (bigint | Buffer)[]>, n: number) => bytes(f, n)[0];

function protoAttributes(kvs: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    kvs.map((kv) => {
      const f = protoFields(kv);
      const value = protoFields(first(f, 2) ?? Buffer.alloc(0));
      const str = first(value, 1);
      const int = value.get(3)?.[0];
      return [first(f, 1).toString('utf8'), str ? str.toString('utf8') : typeof int === 'bigint' ? Number(int) : undefined];
    }),
  );
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return bytes(protoFields(body), 1).flatMap((rsBuf) => {
    const rs = protoFields(rsBuf);
    const resource = protoFields(first(rs, 1) ?? Buffer.alloc(0));
    const service = String(protoAttributes(bytes(resource, 1))['service.name']);
    return bytes(rs, 2).flatMap((ssBuf) =>
      bytes(protoFields(ssBuf), 2).map((spanBuf) => {
        const s = protoFields(spanBuf);
        const parent = first(s, 4);
        return {
          service,
          traceId: first(s, 1).toString('hex'),
          spanId: first(s, 2).toString('hex'),
          ...(parent?.length ? { parentSpanId: parent.toString('hex') } : {}),
          name: first(s, 5).toString('utf8'),
          attributes: protoAttributes(bytes(s, 9)),
          links: bytes(s, 13).map((l) => {
            const lf = protoFields(l);
            return { traceId: first(lf, 1).toString('hex'), spanId: first(lf, 2).toString('hex') };
          }),
        };
      }),
    );
  });
}

/**
 * Listens on port 0 for OTLP/HTTP trace exports. With `hold`, export requests are read and
 * decoded but never answered: an endpoint that hangs, the worst a collector can do.
 */
export async function startOtlpReceiver(opts: { hold?: boolean } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = String(req.headers['content-type'] ?? '');
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      try {
        spans.push(...(type.includes('json') ? fromJson(body) : fromProtobuf(body)));
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      if (opts.hold) {
        held.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(type.includes('json') ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    held: () => held.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
