// What the error answers of a load were: each answer that counted as an error (a connection
// error or timeout, a non-2xx status, a 2xx with a GraphQL `errors` entry) by its kind, with
// the first few of each kind kept whole enough to find in the processes' logs.

/** One answer that counted as an error, as the client saw it. */
export interface ErrorAnswer {
  /** HTTP status; 0 for a connection error or timeout (no answer). */
  status: number;
  body?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** For a connection error or timeout: what the client said. */
  transport?: string;
  /** The correlation id the request was sent with (the response's, when it has one, wins). */
  sentCorrelationId?: string;
}

/** The kind of an error answer: what its first error entry says. */
export interface ErrorKey {
  status: number;
  code: string;
  service?: string;
  path?: string;
  message: string;
}

export interface ErrorSample {
  minute: number;
  at: string;
  correlationId?: string;
  operation?: string;
  /** The answer's error entries (each message cut to 300 characters), or the body's start when it had none. */
  errors: unknown;
  /** Lines of the processes' output that name the correlation id, filled in at the end. */
  logs?: string[];
}

export interface ErrorKind extends ErrorKey {
  count: number;
  /** Of `count`, how many came from each operation. */
  byOperation: Record<string, number>;
  firstMinute: number;
  lastMinute: number;
  samples: ErrorSample[];
}

const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const header = (headers: ErrorAnswer['headers'], name: string) => {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
};

interface GraphQLErrorEntry {
  message?: unknown;
  path?: unknown;
  extensions?: { code?: unknown; service?: unknown };
}

/** The kind of one error answer, and its error entries for a sample. */
export function classify(answer: ErrorAnswer): { key: ErrorKey; errors: unknown } {
  if (answer.status === 0) return { key: { status: 0, code: 'TRANSPORT', message: cut(answer.transport ?? 'no answer', 120) }, errors: answer.transport };
  let parsed: { errors?: GraphQLErrorEntry[] } | undefined;
  try {
    parsed = JSON.parse(answer.body ?? '') as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const entries = Array.isArray(parsed?.errors) ? parsed.errors : [];
  const first = entries[0];
  if (!first) {
    // A non-2xx without GraphQL errors, or a 2xx whose body only mentioned "errors" somewhere.
    const what = parsed ? 'no top-level errors' : 'not JSON';
    return {
      key: { status: answer.status, code: `(${what})`, message: cut((answer.body ?? '').replace(/\s+/g, ' '), 120) },
      errors: cut(answer.body ?? '', 500),
    };
  }
  const ext = first.extensions ?? {};
  return {
    key: {
      status: answer.status,
      code: typeof ext.code === 'string' ? ext.code : '(no code)',
      ...(typeof ext.service === 'string' ? { service: ext.service } : {}),
      ...(Array.isArray(first.path) ? { path: first.path.join('.') } : {}),
      message: cut(text(first.message), 120),
    },
    errors: entries.slice(0, 10).map((e) => ({ ...e, message: cut(text(e.message), 300) })),
  };
}

const keyOf = (k: ErrorKey) => JSON.stringify([k.status, k.code, k.service ?? null, k.path ?? null, k.message]);

/** Error answers counted by kind, with the first `samplesPerKind` of each kept. */
export class ErrorTally {
  readonly #kinds = new Map<string, ErrorKind>();
  constructor(private readonly samplesPerKind = 3) {}

  add(answer: ErrorAnswer, minute: number, operation?: string, at = new Date().toISOString()): void {
    const { key, errors } = classify(answer);
    const id = keyOf(key);
    let kind = this.#kinds.get(id);
    if (!kind) this.#kinds.set(id, (kind = { ...key, count: 0, byOperation: {}, firstMinute: minute, lastMinute: minute, samples: [] }));
    kind.count++;
    kind.lastMinute = minute;
    if (operation) kind.byOperation[operation] = (kind.byOperation[operation] ?? 0) + 1;
    if (kind.samples.length < this.samplesPerKind)
      kind.samples.push({
        minute,
        at,
        correlationId: header(answer.headers, 'x-correlation-id') ?? answer.sentCorrelationId,
        ...(operation ? { operation } : {}),
        errors,
      });
  }

  get total(): number {
    let n = 0;
    for (const k of this.#kinds.values()) n += k.count;
    return n;
  }

  /** The kinds, most frequent first. */
  kinds(): ErrorKind[] {
    return [...this.#kinds.values()].sort((a, b) => b.count - a.count);
  }
}

/** One line per kind: count, status, code, service, path, message (and, for a soak, the minutes it was seen in). */
export function describeKind(k: ErrorKind, { minutes = true }: { minutes?: boolean } = {}): string {
  const ops = Object.entries(k.byOperation)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  return `${String(k.count).padStart(5)} × ${k.status || 'no answer'} ${k.code}${k.service ? ` (${k.service})` : ''}${k.path ? ` at ${k.path}` : ''}: ${k.message}${minutes ? `  [minutes ${k.firstMinute}-${k.lastMinute}${ops ? `; ${ops}` : ''}]` : ''}`;
}
