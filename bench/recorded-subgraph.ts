/**
 * A recorded subgraph for `npm run bench -- --only overhead` (not a test, not a service): it
 * stands where one subgraph stands and answers each request it has seen before with the answer
 * the real subgraph gave, from memory. A request it has not seen (same caller, same body) goes
 * to the real subgraph once (`RECORDED_UPSTREAM`) and its answer is kept. So once warmed up, the
 * subgraphs behind a gateway cost next to nothing and need next to no CPU: what is left of a
 * dashboard's latency at 1 connection is the gateway's own, not the two cores' queue.
 *
 * The key is the caller (`authorization`) and the body; the gateway's service credential is
 * checked by the real subgraph on the first request and not again (it changes every few minutes).
 * `GET /__recorded` says how many answers were served from memory and how many were fetched.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

const UPSTREAM = process.env.RECORDED_UPSTREAM;
if (!UPSTREAM) throw new Error('RECORDED_UPSTREAM is not set');
const upstream = new URL(UPSTREAM);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

// Hop-by-hop and per-answer headers are not replayed; content-length is set from the body.
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const answers = new Map<string, Answer>();
let hits = 0;
let misses = 0;

const readBody = (req: NodeJS.ReadableStream) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

function forward(path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') sent[k] = v;
  sent['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: upstream.hostname, port: upstream.port, path, method: 'POST', agent, headers: sent }, (res) => {
      void readBody(res).then((b) => {
        const kept: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string' && !NOT_REPLAYED.has(k)) kept[k] = v;
        resolve({ status: res.statusCode ?? 502, headers: kept, body: b });
      }, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__recorded') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits, misses, entries: answers.size }));
    return;
  }
  void (async () => {
    const body = await readBody(req);
    const key = `${req.headers.authorization ?? ''}\n${req.url}\n${body.toString('utf8')}`;
    let answer = answers.get(key);
    if (answer) hits++;
    else {
      misses++;
      answer = await forward(req.url ?? '/', req.headers, body);
      // Only a whole answer is kept: a refusal (an expired credential, say) is fetched again next time.
      if (answer.status === 200) answers.set(key, answer);
    }
    res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length }).end(answer.body);
  })().catch((err: Error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ message: `recorded subgraph: ${err.message}`, extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
  });
});

server.listen(Number(process.env.RECORDED_PORT ?? 0), '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  process.send?.({ fitsync: 'listening', port });
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
