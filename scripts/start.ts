// npm start: the whole platform on one machine. Five subgraphs and the gateway, each
// its own process, PGlite under DATA_DIR (or DATABASE_URL), output prefixed per service.
// A port of 0 (GATEWAY_PORT=0, USERS_PORT=0, ...) lets that service pick a free one: it
// reports it over IPC, and the summary shows it. Ctrl-C stops everything; a service that
// dies stops the rest.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEMO_LOGINS, DEMO_PASSWORD } from '@fitsync/demo-data';
import pc from 'picocolors';
import { prettyFactory } from 'pino-pretty';
// The config module alone, not the service-kit barrel: that pulls in Apollo Server,
// PGlite and friends, seconds of CPU the starting services need more than we do.
// The hub alone, not the events barrel, for the same reason.
import { createEventHub, type EventHub } from '../packages/events/src/ipc-hub.js';
import {
  ConfigError,
  SUBGRAPHS,
  loadConfig,
  portVariable,
  urlVariable,
  type ServiceConfig,
  type ServiceName,
  type SubgraphName,
} from '../packages/service-kit/src/config.js';
import type { ServiceMessage } from '../packages/service-kit/src/run.js';
import { TSX_LOADER, sendSubgraphUrls } from '../packages/service-kit/src/supervise.js';
import { ensureGraphiQL } from './graphiql.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES: ServiceName[] = [...SUBGRAPHS, 'gateway'];
const READY_TIMEOUT_MS = 120_000;
// Longer than runService gives itself (10 s) before it exits on its own.
const STOP_GRACE_MS = 12_000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type LevelName = (typeof LEVELS)[number];

// ---------- output ----------

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const { bold, dim, red, green, yellow, cyan, blue, magenta, blueBright } = pc.createColors(useColor);
const SERVICE_COLORS = [blue, magenta, cyan, green, yellow, blueBright];
const colorOf = (name: ServiceName) => SERVICE_COLORS[SERVICES.indexOf(name) % SERVICE_COLORS.length];
const NAME_WIDTH = Math.max(...SERVICES.map((s) => s.length));
const prefix = (name: ServiceName) => colorOf(name)(name.padEnd(NAME_WIDTH)) + dim(' │ ');
const say = (msg: string) => console.log(`${dim('start'.padEnd(NAME_WIDTH))}${dim(' │ ')}${msg}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

// The services log pino JSON; pino's own pretty printer turns each line into
// `HH:MM:ss LEVEL: message` with its fields and an error's stack below it.
const PRETTY = { colorize: useColor, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service,name', singleLine: true } as const;
const prettyAll = prettyFactory(PRETTY);

/** A service's output line as a person reads it (`undefined` when its level is below `minimumLevel`). */
function readable(line: string, pretty: (input: string) => string | undefined = prettyAll): string | undefined {
  return pretty(line)?.trimEnd();
}

// ---------- the supergraph ----------

async function mtime(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
}

/** Composes supergraph.graphql (and api-schema.graphql) when it is missing or older than its sources. */
async function ensureSupergraph(): Promise<void> {
  const out = join(ROOT, 'supergraph.graphql');
  const config = join(ROOT, 'supergraph.yaml');
  const schemas = (await readdir(join(ROOT, 'subgraphs'))).map((d) => join(ROOT, 'subgraphs', d, 'schema.graphql'));
  const built = await mtime(out);
  const sources = (await Promise.all([config, ...schemas].map(mtime))).filter((t): t is number => t !== undefined);
  if (built !== undefined && sources.every((t) => t <= built)) return;
  say(built === undefined ? 'supergraph.graphql is missing: composing it' : 'a subgraph schema changed: composing supergraph.graphql');
  const { apiSchemaSdl, compose, formatProblems, loadSupergraphConfig, writeFileAtomic } = await import('@fitsync/composition');
  const subgraphs = await loadSupergraphConfig(config);
  const result = compose(subgraphs);
  if (!result.ok) {
    console.error(red(`Composition of supergraph.yaml failed with ${result.problems.length} error(s):`) + '\n' + formatProblems(result.problems));
    console.error('Fix the subgraph schemas (then `npm run compose` shows the same errors).');
    process.exit(1);
  }
  await writeFileAtomic(out, result.supergraphSdl);
  await writeFileAtomic(join(ROOT, 'api-schema.graphql'), apiSchemaSdl(result.supergraphSdl));
}

// ---------- embedded databases ----------

/**
 * Creates the PGlite folder of every subgraph that has none yet, by copying an empty
 * cluster. A PGlite `initdb` costs about five seconds of CPU; five of them at once would
 * take most of a two-core machine's start-up budget, so it runs once per PGlite version
 * and is kept under node_modules/.cache. The services still migrate and seed the copy
 * like any new folder (their migrations find no schema_migrations table).
 */
export async function provisionPgliteFolders(dataDir: string, names: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    if ((await mtime(join(dataDir, name, 'PG_VERSION'))) === undefined && !(await nonEmptyDir(join(dataDir, name)))) missing.push(name);
  }
  if (!missing.length) return [];
  const template = await pgliteTemplate();
  await mkdir(dataDir, { recursive: true });
  for (const name of missing) {
    // Copied beside and renamed into place: an interrupted copy never looks like a cluster.
    const partial = join(dataDir, `.${name}.copying`);
    await rm(partial, { recursive: true, force: true });
    await copyTree(template, partial);
    await rm(join(dataDir, name), { recursive: true, force: true });
    await rename(partial, join(dataDir, name));
  }
  return missing;
}

/**
 * Copies a folder file by file with copyFileSync, which on this kind of small-file
 * tree costs about half the system time of fs.cp; it yields now and then so the
 * services' output keeps flowing.
 */
async function copyTree(from: string, to: string): Promise<void> {
  let copied = 0;
  const walk = async (rel: string) => {
    mkdirSync(join(to, rel), { recursive: true });
    for (const entry of readdirSync(join(from, rel), { withFileTypes: true })) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) await walk(path);
      else copyFileSync(join(from, path), join(to, path));
      if (++copied % 100 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await walk('');
}

async function nonEmptyDir(path: string): Promise<boolean> {
  return readdir(path).then(
    (entries) => entries.length > 0,
    () => false,
  );
}

async function pgliteVersion(): Promise<string> {
  // The package does not export its package.json: walk up from its entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (dir !== dirname(dir)) {
    const pkg = await readFile(join(dir, 'package.json'), 'utf8').then(JSON.parse, () => undefined);
    if (pkg?.name === '@electric-sql/pglite') return String(pkg.version);
    dir = dirname(dir);
  }
  return 'unknown';
}

async function pgliteTemplate(): Promise<string> {
  const version = await pgliteVersion();
  const cacheDir = join(ROOT, 'node_modules', '.cache', 'fitsync');
  const template = join(cacheDir, `pglite-${version}-empty`);
  if (await mtime(join(template, 'PG_VERSION'))) return template;
  await mkdir(cacheDir, { recursive: true });
  const building = await mkdtemp(join(cacheDir, 'pglite-building-'));
  const started = Date.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = await PGlite.create({ dataDir: building });
  await lite.close();
  // Two starts racing: whichever renames first wins, the other throws its copy away.
  await rename(building, template).catch(() => rm(building, { recursive: true, force: true }));
  say(dim(`created an empty PGlite cluster to copy for new data folders (${seconds(Date.now() - started)}, once per PGlite version)`));
  return template;
}

// ---------- processes ----------

interface Service {
  name: ServiceName;
  /** The configured port; 0 means the service picks one and reports it. */
  port: number;
  child: ChildProcess;
  /** Resolves with how the process ended. */
  exited: Promise<string>;
  done: boolean;
  /** Resolves with the port the service bound, as it reports over IPC once listening. */
  listening: Promise<number>;
  /** The last lines it wrote, shown when it dies. */
  recent: string[];
}

function spawnService(name: ServiceName, port: number, env: NodeJS.ProcessEnv, consoleLevel: LevelName, hub: EventHub | undefined): Service {
  const pretty = consoleLevel === 'silent' ? () => undefined : prettyFactory({ ...PRETTY, minimumLevel: consoleLevel });
  const entry = name === 'gateway' ? join(ROOT, 'gateway/src/index.ts') : join(ROOT, 'subgraphs', name, 'src/index.ts');
  // detached: a Ctrl-C in the terminal reaches only this process, which then stops
  // the gateway before the subgraphs instead of everything at once.
  // The IPC channel tells us where the service listens (port 0 picks a free one) and, without
  // Redis, carries the services' events and live messages through this process (the hub).
  const child = spawn(process.execPath, ['--import', TSX_LOADER, entry], {
    cwd: ROOT,
    env: hub ? { ...env, ...hub.env } : env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  hub?.attach(child);
  let onListening: (port: number) => void = () => undefined;
  const service: Service = {
    name,
    port,
    child,
    done: false,
    recent: [],
    exited: Promise.resolve(''),
    listening: new Promise<number>((r) => (onListening = r)),
  };
  child.on('message', (msg: unknown) => {
    const m = msg as Partial<ServiceMessage> | null;
    if (m?.fitsync === 'listening' && typeof m.port === 'number') onListening(m.port);
  });
  const onLine = (line: string) => {
    if (!line.trim()) return;
    service.recent.push(line);
    if (service.recent.length > 30) service.recent.shift();
    const text = readable(line, pretty);
    if (text === undefined) return;
    for (const l of text.split('\n')) console.log(prefix(name) + l);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  service.exited = new Promise((resolveExit) => {
    child.once('error', (err) => {
      service.done = true;
      resolveExit(`could not be started: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      service.done = true;
      resolveExit(signal ? `was killed by ${signal}` : `exited with code ${code}`);
    });
  });
  return service;
}

/**
 * Where this machine reaches a service listening on `host`: a wildcard address is
 * reached on loopback of the same family, any other address as it is.
 */
export function reachableHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === '' || bare === '0.0.0.0') return '127.0.0.1';
  if (bare === '::') return '::1';
  return bare;
}

/** `http://host:port`, with an IPv6 address in brackets. */
export function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits for the port (the configured one, or the one the service reports), then polls
 * `/ready` on the configured host until it answers 200; fails as soon as the process ends.
 */
async function waitReady(service: Service, host: string, deadline: number): Promise<number> {
  let died: string | undefined;
  void service.exited.then((how) => (died = how));
  const timeout = () =>
    new Error(
      `${service.name} was not ready${service.port ? ` at ${origin(reachableHost(host), service.port)}/ready` : ''} after ${seconds(READY_TIMEOUT_MS)}`,
    );
  let port = service.port;
  if (!port) {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      service.listening,
      service.exited.then((how) => new ServiceDied(service, how)),
      new Promise<Error>((r) => (timer = setTimeout(() => r(timeout()), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (outcome instanceof Error) throw outcome;
    port = outcome;
  }
  const url = `${origin(reachableHost(host), port)}/ready`;
  for (;;) {
    if (died !== undefined) throw new ServiceDied(service, died);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return port;
    if (died !== undefined) throw new ServiceDied(service, died);
    if (Date.now() > deadline) throw new Error(`${service.name} was not ready at ${url} after ${seconds(READY_TIMEOUT_MS)}`);
    await sleep(100);
  }
}

/** Tells every subgraph where its peers listen, and resolves once each has taken it in. */
async function shareSubgraphUrls(services: Service[], urls: Partial<Record<SubgraphName, string>>, deadline: number): Promise<void> {
  await Promise.all(
    services.map((service) =>
      sendSubgraphUrls(service.child, urls, {
        name: service.name,
        timeoutMs: deadline - Date.now(),
        gone: service.exited.then((how) => new ServiceDied(service, how)),
      }),
    ),
  );
}

class ServiceDied extends Error {
  constructor(
    readonly service: Service,
    how: string,
  ) {
    super(`${service.name} ${how}`);
  }
}

async function stopService(service: Service): Promise<void> {
  if (service.done) return;
  service.child.kill('SIGTERM');
  const timer = sleep(STOP_GRACE_MS).then(() => 'timeout');
  if ((await Promise.race([service.exited, timer])) === 'timeout' && !service.done) {
    say(yellow(`${service.name} did not stop within ${seconds(STOP_GRACE_MS)}: killing it`));
    service.child.kill('SIGKILL');
    await service.exited;
  }
}

async function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

// ---------- main ----------

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** The host to show in URLs: `localhost` for a wildcard address, else the address itself. */
function shownHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare === '' || bare === '0.0.0.0' || bare === '::' ? 'localhost' : bare;
}

function summary(configs: Record<ServiceName, ServiceConfig>, ports: Record<ServiceName, number>, dataDir: string, readyMs: number): string {
  const gw = configs.gateway;
  const at = (s: ServiceName) => origin(shownHost(configs[s].host), ports[s]);
  const base = at('gateway');
  const rows: [string, string, string][] = [
    [
      'gateway',
      `${base}/graphql`,
      gw.graphiqlPath === '/graphql' ? 'GraphQL for clients (HTTP POST); GraphiQL in a browser' : 'GraphQL for clients (HTTP POST)',
    ],
    ...(gw.graphiqlPath && gw.graphiqlPath !== '/graphql' ? [['', `${base}${gw.graphiqlPath}`, 'GraphiQL in a browser'] as [string, string, string]] : []),
    ['', `${base}/health`, 'process is up'],
    ['', `${base}/ready`, 'ready to serve'],
    ['', `${base}/metrics`, 'Prometheus metrics'],
    ...SUBGRAPHS.map((s): [string, string, string] => [s, `${at(s)}/graphql`, 'subgraph (answers the gateway only)']),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const db = gw.databaseUrl;
  const storage = db
    ? `Postgres ${redactUrl(db)}, one schema per subgraph (${SUBGRAPHS.join(', ')})`
    : dataDir.startsWith('memory://')
      ? 'PGlite in memory (DATA_DIR=memory://): nothing is kept after Ctrl-C'
      : `PGlite (embedded Postgres), one folder per subgraph: ${displayPath(dataDir)}/<subgraph>`;
  const bus = gw.redisUrl
    ? `Redis Streams ${redactUrl(gw.redisUrl)}, prefix ${gw.eventsPrefix}`
    : 'in-process bus hosted by npm start (set REDIS_URL for Redis Streams)';
  const notifications = configs.notifications;
  const mail = notifications.mail.smtpUrl
    ? `SMTP ${redactUrl(notifications.mail.smtpUrl)}, from ${notifications.mail.from}`
    : `written to files, one per email: ${dataDir.startsWith('memory://') ? join(tmpdir(), 'fitsync-mail') : `${displayPath(dataDir)}/mail`}/*.eml (set SMTP_URL to send)`;
  const login = `mutation { login(email: \\"${DEMO_LOGINS.client}\\", password: \\"${DEMO_PASSWORD}\\") { token user { name role } } }`;
  const lines = [
    '',
    bold(green(`FitSync Graph is ready in ${seconds(readyMs)}`)),
    '',
    ...rows.map(([a, b, c]) => `  ${bold(a.padEnd(w0))}  ${cyan(b.padEnd(w1))}  ${dim(c)}`),
    '',
    `  ${bold('storage'.padEnd(w0))}  ${storage}`,
    `  ${bold('events'.padEnd(w0))}  ${bus}`,
    `  ${bold('schema'.padEnd(w0))}  ${displayPath(gw.supergraphPath)}`,
    `  ${bold('mail'.padEnd(w0))}  ${mail}`,
    '',
    `  Demo logins (password ${bold(DEMO_PASSWORD)}; seeded into a new data folder):`,
    ...Object.entries(DEMO_LOGINS).map(([role, email]) => `    ${role.padEnd(8)} ${email}`),
    '',
    '  Log in:',
    `    curl -s ${base}/graphql -H 'content-type: application/json' \\`,
    `      -d '{"query":"${login}"}'`,
    `  then send ${dim('-H "authorization: Bearer <token>"')} with operations/ClientDashboard.graphql (see README.md).`,
    '',
    dim('  Press Ctrl-C to stop.'),
    '',
  ];
  return lines.join('\n');
}

function displayPath(path: string): string {
  if (path.startsWith('memory://')) return path;
  const rel = relative(process.cwd(), resolve(ROOT, path));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(ROOT, path);
}

async function main(): Promise<void> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Children log at LOG_LEVEL (default info). Unless it was set, the console shows only
  // their warnings and errors; the rest is kept to explain a crash.
  // By default only the services' warnings and errors reach the console (LOG_LEVEL shows more or less).
  const consoleLevel: LevelName = LEVELS.find((l) => l === process.env.LOG_LEVEL) ?? (process.env.LOG_LEVEL ? 'info' : 'warn');
  env.LOG_LEVEL ??= 'info';
  if (env.DB_SCHEMA) {
    say(yellow(`DB_SCHEMA=${env.DB_SCHEMA} is ignored here: each subgraph keeps its own schema, named after it`));
    delete env.DB_SCHEMA;
  }
  if (env.OTEL_SERVICE_NAME) {
    // One name for six processes would make one service of them in every trace.
    say(yellow(`OTEL_SERVICE_NAME=${env.OTEL_SERVICE_NAME} is ignored here: each service names its spans fitsync-<service>`));
    delete env.OTEL_SERVICE_NAME;
  }
  // Services run in the repository root; paths given relative to where npm start ran stay valid.
  const dataDir = (env.DATA_DIR ??= '.data').startsWith('memory://') ? env.DATA_DIR : resolve(env.DATA_DIR);
  env.DATA_DIR = dataDir;
  if (env.SUPERGRAPH_PATH) env.SUPERGRAPH_PATH = resolve(env.SUPERGRAPH_PATH);

  let configs: Record<ServiceName, ServiceConfig>;
  try {
    configs = Object.fromEntries(SERVICES.map((s) => [s, loadConfig(s, env)])) as Record<ServiceName, ServiceConfig>;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(red(err.message));
    process.exit(1);
  }
  // The gateway and the subgraphs reach each subgraph where it listens, whatever
  // supergraph.yaml says: known now for a fixed port, once it listens for port 0.
  const subgraphUrlOf = (s: SubgraphName, port: number) => `${origin(reachableHost(configs[s].host), port)}/graphql`;
  const pinnedUrls = new Set(SUBGRAPHS.filter((s) => env[urlVariable(s)] !== undefined));
  for (const s of SUBGRAPHS) if (configs[s].port) env[urlVariable(s)] ??= subgraphUrlOf(s, configs[s].port);

  for (const s of SERVICES) {
    const entry = s === 'gateway' ? 'gateway/src/index.ts' : `subgraphs/${s}/src/index.ts`;
    if (!(await mtime(join(ROOT, entry)))) {
      console.error(red(`${entry} does not exist: ${s} cannot be started`));
      process.exit(1);
    }
  }
  const busy: string[] = [];
  for (const s of SERVICES) {
    if (configs[s].port && !(await portFree(configs[s].port, configs[s].host))) busy.push(`${s} port ${configs[s].port} (${portVariable(s)})`);
  }
  if (busy.length) {
    console.error(red(`Already in use: ${busy.join(', ')}.`));
    console.error('Is FitSync already running? Stop it, or choose other ports with the variables named above.');
    process.exit(1);
  }

  // The gateway serves GraphiQL from its bundle: built now if missing or older than its sources.
  if (configs.gateway.graphiqlPath) await ensureGraphiQL(say);
  if (!process.env.SUPERGRAPH_PATH) await ensureSupergraph();
  else if (!(await mtime(env.SUPERGRAPH_PATH!))) {
    console.error(red(`SUPERGRAPH_PATH=${process.env.SUPERGRAPH_PATH} does not exist`));
    process.exit(1);
  }
  const pglite = !configs.gateway.databaseUrl && !dataDir.startsWith('memory://');
  const hub = configs.gateway.redisUrl ? undefined : createEventHub();

  const services: Service[] = [];
  let stopping = false;
  const stopAll = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    say(why);
    // The gateway first, so it stops taking requests before the subgraphs go away.
    const gateway = services.filter((s) => s.name === 'gateway');
    await Promise.all(gateway.map(stopService));
    await Promise.all(services.filter((s) => s.name !== 'gateway').map(stopService));
    say(code === 0 ? 'all services stopped' : red('all services stopped'));
    process.exit(code);
  };
  let firstSignal = 0;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // One Ctrl-C can arrive twice (from the terminal, and relayed by npm's tsx): only a
      // second one a moment later means "force".
      if (firstSignal && Date.now() - firstSignal > 1000) {
        say(red(`${sig} again: killing every service now`));
        for (const s of services) if (!s.done) s.child.kill('SIGKILL');
        process.exit(1);
      }
      if (firstSignal) return;
      firstSignal = Date.now();
      void stopAll(0, `${sig}: stopping every service (press Ctrl-C again to force)`);
    });
  }
  // Whatever happens to this process, no service outlives it.
  process.on('exit', () => {
    for (const s of services) if (!s.done) s.child.kill('SIGKILL');
  });
  const watch = (service: Service) =>
    void service.exited.then(async (how) => {
      if (stopping) return;
      const shown = service.recent.slice(-15).map((l) => readable(l) ?? l);
      console.error(red(`\n${service.name} ${how} unexpectedly.`) + (shown.length ? ' Its last output:' : ''));
      for (const l of shown.join('\n').split('\n')) console.error(prefix(service.name) + l);
      await stopAll(1, `stopping the other services because ${service.name} ${how}`);
    });

  let readyPorts: Record<ServiceName, number>;
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const ready = new Set<ServiceName>();
    const slow = setTimeout(() => {
      const waiting = services.filter((s) => !ready.has(s.name)).map((s) => s.name);
      if (waiting.length) say(yellow(`still waiting for ${waiting.join(', ')}...`));
    }, 15_000);
    const ports = {} as Record<ServiceName, number>;
    const startOne = async (name: ServiceName) => {
      const t = Date.now();
      const service = spawnService(name, configs[name].port, env, consoleLevel, hub);
      services.push(service);
      ports[name] = await waitReady(service, configs[name].host, deadline);
      ready.add(name);
      say(`${colorOf(name)(name)} ready on :${ports[name]} ${dim(`(${seconds(Date.now() - t)})`)}`);
      return service;
    };
    say(`starting ${SUBGRAPHS.join(', ')}`);
    const starting: Promise<Service>[] = [];
    const created: string[] = [];
    for (const name of SUBGRAPHS) {
      // Each folder is copied just before its service starts, overlapping the others' start-up.
      if (pglite) created.push(...(await provisionPgliteFolders(dataDir, [name])));
      const started = startOne(name);
      started.catch(() => undefined); // awaited below; a failure must not surface as unhandled meanwhile
      starting.push(started);
    }
    if (created.length) say(`new data folder ${displayPath(dataDir)}: the demo gym is being seeded into ${created.join(', ')}`);
    const subgraphs = await Promise.all(starting);
    // Subgraphs that picked their port learn each other's now (training and progress call
    // each other, so no start order would do); the gateway gets them all in its environment.
    const learned: Partial<Record<SubgraphName, string>> = {};
    for (const s of SUBGRAPHS) if (!configs[s].port && !pinnedUrls.has(s)) learned[s] = env[urlVariable(s)] = subgraphUrlOf(s, ports[s]);
    if (Object.keys(learned).length) await shareSubgraphUrls(subgraphs, learned, deadline);
    await startOne('gateway');
    clearTimeout(slow);
    readyPorts = ports;
  } catch (err) {
    if (stopping) return;
    const service = err instanceof ServiceDied ? err.service : undefined;
    if (service) {
      // The watcher below reports it with its last output.
      watch(service);
      return;
    }
    await stopAll(1, red(err instanceof Error ? err.message : String(err)));
    return;
  }
  for (const s of services) watch(s);
  console.log(summary(configs, readyPorts, dataDir, Date.now() - started));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
