// deploy/kubernetes (kustomize base + production overlay) rendered and checked against what
// the code really reads and serves, as tests/docker-compose.test.ts does for compose: ports,
// probes, entry files, every environment variable (from CONFIG_VARIABLES, so variables added
// to the code later are known here too), secrets only by reference, the shutdown deadline.
// Rendered by `kubectl kustomize` when it is installed, and by a small composer on the `yaml`
// package otherwise; where kubectl is installed the two must render the same.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONFIG_VARIABLES,
  DEFAULT_PORTS,
  SECRET_VARIABLES,
  SHUTDOWN_TIMEOUT_MS,
  SUBGRAPHS,
  createHttpApp,
  createMetrics,
  loadConfig,
  portVariable,
  type ServiceName,
} from '@fitsync/service-kit';
import { REQUIRE_SERVICES } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const BASE = 'deploy/kubernetes/base';
const PRODUCTION = 'deploy/kubernetes/overlays/production';
const FITSYNC: ServiceName[] = [...SUBGRAPHS, 'gateway'];

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

// ---------- rendering ----------

const haveKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

function renderWithKubectl(dir: string): Doc[] {
  const out = spawnSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((d) => d.toJS() as Doc);
}

/** Kinds kustomize's namespace transformer leaves without a namespace. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass']);
/** The kustomization fields this composer implements; any other is an error, never ignored. */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

type PatchOp = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };

/** RFC 6902 add, replace and remove at a JSON pointer. */
export function applyJsonPatch(doc: any, ops: PatchOp[]): void {
  for (const { op, path, value } of ops) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) throw new Error(`patch path ${JSON.stringify(path)} names no member`);
    let parent = doc;
    for (const key of keys) {
      parent = Array.isArray(parent) ? parent[Number(key)] : parent?.[key];
      if (parent === undefined || parent === null) throw new Error(`patch path ${path}: ${key} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op === 'add') parent.splice(index, 0, value);
      else if (index >= parent.length) throw new Error(`patch path ${path}: no element ${last}`);
      else if (op === 'replace') parent[index] = value;
      else if (op === 'remove') parent.splice(index, 1);
      else throw new Error(`unsupported patch op ${String(op)}`);
      continue;
    }
    if (op === 'add') parent[last] = value;
    else if (!(last in parent)) throw new Error(`patch path ${path}: ${last} does not exist`);
    else if (op === 'replace') parent[last] = value;
    else if (op === 'remove') delete parent[last];
    else throw new Error(`unsupported patch op ${String(op)}`);
  }
}

const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');

/**
 * kustomize's `resources` (files and kustomization folders), JSON 6902 `patches` by kind and
 * name, `images` and `namespace`: what these kustomizations use, with the `yaml` package.
 */
export function renderWithYaml(dir: string): Doc[] {
  const k = parseYaml(read(join(dir, 'kustomization.yaml'))) as Record<string, any>;
  const unknown = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unknown.length) throw new Error(`${dir}/kustomization.yaml: ${unknown.join(', ')} not supported by the yaml renderer`);
  const docs: Doc[] = [];
  for (const resource of (k.resources ?? []) as string[]) {
    const path = join(dir, resource);
    if (existsSync(join(root, path, 'kustomization.yaml'))) docs.push(...renderWithYaml(path));
    else docs.push(...parseAllDocuments(read(path)).map((d) => d.toJS() as Doc));
  }
  for (const { target, patch } of (k.patches ?? []) as { target: { kind?: string; name?: string }; patch: string }[]) {
    const matched = docs.filter((d) => (!target.kind || d.kind === target.kind) && (!target.name || d.metadata.name === target.name));
    if (matched.length === 0) throw new Error(`${dir}: patch target ${JSON.stringify(target)} matches nothing`);
    for (const d of matched) applyJsonPatch(d, parseYaml(patch) as PatchOp[]);
  }
  for (const image of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    for (const d of docs) {
      const pod = d.spec?.template?.spec;
      for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])] as { image: string }[]) {
        if (imageName(c.image) !== image.name) continue;
        const tag = image.newTag ?? (c.image.slice(imageName(c.image).length + 1) || undefined);
        c.image = `${image.newName ?? image.name}${tag ? `:${tag}` : ''}`;
      }
    }
  }
  if (k.namespace) for (const d of docs) if (!CLUSTER_SCOPED.has(d.kind)) d.metadata.namespace = k.namespace as string;
  return docs;
}

const byIdentity = (docs: Doc[]) => [...docs].sort((a, b) => identity(a).localeCompare(identity(b)));
const identity = (d: Doc) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;

describe('the yaml renderer (used where kubectl is not installed)', () => {
  it.skipIf(!haveKubectl && !REQUIRE_SERVICES).each([BASE, PRODUCTION])('renders %s exactly as kubectl kustomize does', (dir) => {
    if (!haveKubectl) throw new Error('FITSYNC_REQUIRE_SERVICES=1 but kubectl is not installed: the yaml renderer cannot be compared with kustomize');
    expect(byIdentity(renderWithYaml(dir))).toEqual(byIdentity(renderWithKubectl(dir)));
  });

  it('applies JSON patches as RFC 6902 says, and refuses what it cannot do', () => {
    const doc = { a: { b: [1, 2], 'c/d': 1 } };
    applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'replace', path: '/a/c~1d', value: 2 },
      { op: 'remove', path: '/a/b/1' },
      { op: 'add', path: '/a/e', value: { f: true } },
    ]);
    expect(doc).toEqual({ a: { b: [0, 2, 3], 'c/d': 2, e: { f: true } } });
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a/missing', value: 1 }])).toThrow('does not exist');
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/x/y' }])).toThrow('does not exist');
    expect(() => applyJsonPatch(doc, [{ op: 'move' as 'add', path: '/a/e' }])).toThrow('unsupported');
  });
});

// ---------- the manifests against the code ----------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  ports: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
}

const SECRET_VALUES: Record<string, string> = {
  JWT_SECRET: 'k8s-test-jwt-secret-0123456789abcdef',
  SERVICE_SECRET: 'k8s-test-service-secret-0123456789abcdef',
  JWT_SECRET_PREVIOUS: 'k8s-test-old-jwt-secret-0123456789ab',
  SERVICE_SECRET_PREVIOUS: 'k8s-test-old-service-secret-0123456789',
  METRICS_TOKEN: 'k8s-test-metrics-token-0123456789',
  DATABASE_URL: 'postgres://fitsync:k8s-test-password@postgres:5432/fitsync',
  REDIS_URL: 'redis://redis:6379',
};

/** The keys the documented `kubectl create secret generic fitsync-secrets` puts in the Secret. */
function documentedSecretKeys(text: string): string[] {
  const command = text.slice(text.indexOf('create secret generic fitsync-secrets'));
  const end = command.search(/\n(?![#\s]*--from-literal)/);
  return [...command.slice(0, end).matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((m) => m[1]);
}

const cpu = (v: string) => (v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v));
const mebibytes = (v: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(v);
  if (!m) throw new Error(`memory ${v}: write it in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

const renderers = [...(haveKubectl ? [['kubectl kustomize', renderWithKubectl] as const] : []), ['the yaml renderer', renderWithYaml] as const];

describe.each(renderers)('deploy/kubernetes rendered by %s', (_how, render) => {
  const base = render(BASE);
  const production = render(PRODUCTION);

  const find = (docs: Doc[], kind: string, name: string) => {
    const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
  };
  const containerOf = (docs: Doc[], name: string) => find(docs, 'Deployment', name).spec.template.spec.containers[0] as Container;

  /** The environment a container starts with, by where each variable comes from. */
  function environment(docs: Doc[], name: string) {
    const c = containerOf(docs, name);
    const fromConfig: Record<string, string> = {};
    for (const source of c.envFrom ?? []) {
      expect(source.secretRef, `${name}: a whole Secret as environment hides which secrets a service gets`).toBeUndefined();
      Object.assign(fromConfig, find(docs, 'ConfigMap', source.configMapRef!.name).data);
    }
    const values: Record<string, string> = {};
    const secrets: { name: string; key: string; optional: boolean }[] = [];
    for (const v of c.env ?? []) {
      if (v.value !== undefined) values[v.name] = v.value;
      else if (v.valueFrom?.secretKeyRef) {
        expect(v.valueFrom.secretKeyRef.name, `${name} ${v.name}`).toBe('fitsync-secrets');
        secrets.push({ name: v.name, key: v.valueFrom.secretKeyRef.key, optional: v.valueFrom.secretKeyRef.optional === true });
      } else throw new Error(`${name}: ${v.name} comes from neither a value nor the Secret`);
    }
    return { fromConfig, values, secrets };
  }

  /** The container's environment once the Secret holds `secret` (optional keys it lacks stay unset). */
  function containerEnv(docs: Doc[], name: string, secret: Record<string, string>): Record<string, string> {
    const { fromConfig, values, secrets } = environment(docs, name);
    const env: Record<string, string> = { ...fromConfig, ...values };
    for (const s of secrets) {
      if (s.key in secret) env[s.name] = secret[s.key];
      else if (!s.optional) throw new Error(`${name}: the Secret lacks ${s.key}`);
    }
    return env;
  }
  const requiredSecrets = Object.fromEntries(Object.entries(SECRET_VALUES).filter(([k]) => !k.endsWith('_PREVIOUS') && k !== 'METRICS_TOKEN'));

  it('has a Deployment, a Service, a PodDisruptionBudget and a CPU autoscaler per subgraph and for the gateway, and no Secret', () => {
    for (const docs of [base, production]) {
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) {
        const names = docs.filter((d) => d.kind === kind && d.spec?.type !== 'ExternalName').map((d) => d.metadata.name);
        expect(names.sort(), kind).toEqual([...FITSYNC].sort());
      }
      expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    }
    expect(production.every((d) => d.kind === 'Namespace' || d.metadata.namespace === 'fitsync')).toBe(true);
  });

  it.each(FITSYNC)('%s runs two replicas or more, rolls one pod at a time and keeps one through a disruption', (name) => {
    for (const docs of [base, production]) {
      const deployment = find(docs, 'Deployment', name);
      const labels = deployment.spec.template.metadata.labels as Record<string, string>;
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': name });
      expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
      const pdb = find(docs, 'PodDisruptionBudget', name);
      expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
      expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
      expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
      const hpa = find(docs, 'HorizontalPodAutoscaler', name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
      // CPU utilization is measured against the request: without one the autoscaler has nothing to scale on.
      const { requests, limits } = containerOf(docs, name).resources;
      expect(cpu(requests.cpu)).toBeGreaterThan(0);
      expect(cpu(requests.cpu)).toBeLessThanOrEqual(cpu(limits.cpu));
      expect(mebibytes(requests.memory)).toBeGreaterThan(0);
      expect(mebibytes(requests.memory)).toBeLessThanOrEqual(mebibytes(limits.memory));
    }
  });

  it.each(FITSYNC)('%s starts its entry file and listens, is probed and is served on its port from DEFAULT_PORTS', (name) => {
    const port = DEFAULT_PORTS[name];
    const c = containerOf(production, name);
    const entry = name === 'gateway' ? 'gateway/src/index.ts' : `subgraphs/${name}/src/index.ts`;
    expect(c.command).toEqual(['node', '--import', 'tsx/esm', entry]);
    expect(existsSync(join(root, entry))).toBe(true);
    expect(c.image).toBe('registry.example.com/fitsync/fitsync-graph:0.1.0');
    expect(containerOf(base, name).image).toBe('fitsync-graph');
    expect(c.ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(loadConfig(name, containerEnv(production, name, requiredSecrets)).port).toBe(port);
    expect(containerEnv(production, name, requiredSecrets)[portVariable(name)]).toBe(String(port));
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(probe?.httpGet.port).toBe('http');
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.startupProbe?.httpGet.path).toBe('/health');
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
    const service = find(production, 'Service', name);
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': name });
    expect(service.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
  });

  describe('probes', () => {
    let url: string;
    let ready = true;
    let server: ReturnType<ReturnType<typeof createHttpApp>['listen']>;
    beforeAll(async () => {
      // The shell every FitSync process serves (service-kit's createHttpApp), as in production.
      const app = createHttpApp({ metrics: createMetrics('probe-test'), ready: async () => ({ ok: ready }), production: true });
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('point at what every service answers: liveness stays up while readiness goes down', async () => {
      const paths = new Set(
        FITSYNC.flatMap((n) => [containerOf(production, n).livenessProbe.httpGet.path, containerOf(production, n).readinessProbe.httpGet.path]),
      );
      expect([...paths].sort()).toEqual(['/health', '/ready']);
      const c = containerOf(production, 'gateway');
      expect((await fetch(url + c.livenessProbe.httpGet.path)).status).toBe(200);
      expect((await fetch(url + c.readinessProbe.httpGet.path)).status).toBe(200);
      ready = false;
      expect((await fetch(url + c.readinessProbe.httpGet.path)).status).toBe(503);
      expect((await fetch(url + c.livenessProbe.httpGet.path)).status).toBe(200);
    });
  });

  it.each(FITSYNC)('%s gets longer to stop than the service gives itself (SHUTDOWN_TIMEOUT_MS), after the preStop pause', (name) => {
    const pod = find(production, 'Deployment', name).spec.template.spec;
    const preStop = (pod.containers[0] as Container).lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop.slice(0, 1)).toEqual(['sleep']);
    const pause = Number(preStop[1]);
    expect(pause).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + SHUTDOWN_TIMEOUT_MS / 1000);
  });

  it('names only environment variables the services read (CONFIG_VARIABLES), in ConfigMaps and from the Secret', () => {
    for (const docs of [base, production]) {
      for (const map of docs.filter((d) => d.kind === 'ConfigMap')) {
        const keys = Object.keys(map.data ?? {});
        expect(
          keys.filter((k) => !CONFIG_VARIABLES.includes(k)),
          `${map.metadata.name}: variables no FitSync service reads`,
        ).toEqual([]);
      }
      for (const name of FITSYNC) {
        const { values, secrets } = environment(docs, name);
        const named = [...Object.keys(values), ...secrets.map((s) => s.name), ...secrets.map((s) => s.key)];
        expect(
          named.filter((k) => !CONFIG_VARIABLES.includes(k)),
          `${name}: variables no FitSync service reads`,
        ).toEqual([]);
      }
    }
  });

  it('keeps every secret the code knows of (SECRET_VARIABLES) in the Secret, by reference, never as a value', () => {
    for (const docs of [base, production]) {
      for (const map of docs.filter((d) => d.kind === 'ConfigMap')) {
        expect(
          Object.keys(map.data ?? {}).filter((k) => SECRET_VARIABLES.has(k)),
          map.metadata.name,
        ).toEqual([]);
      }
      for (const name of FITSYNC) {
        const { values, secrets } = environment(docs, name);
        expect(
          Object.keys(values).filter((k) => SECRET_VARIABLES.has(k)),
          name,
        ).toEqual([]);
        for (const s of secrets) {
          expect(SECRET_VARIABLES.has(s.name), `${name}: ${s.name} is no secret`).toBe(true);
          expect(s.key, `${name}: ${s.name}`).toBe(s.name);
        }
      }
    }
    // The documented kubectl create secret (overlay and README) fills every key a pod requires, and no other.
    const required = new Set(
      FITSYNC.flatMap((n) =>
        environment(production, n)
          .secrets.filter((s) => !s.optional)
          .map((s) => s.key),
      ),
    );
    const referenced = new Set(FITSYNC.flatMap((n) => environment(production, n).secrets.map((s) => s.key)));
    for (const text of [read(join(PRODUCTION, 'kustomization.yaml')), read('README.md')]) {
      const documented = documentedSecretKeys(text);
      expect(documented.length).toBeGreaterThan(0);
      expect([...required].filter((k) => !documented.includes(k))).toEqual([]);
      expect(documented.filter((k) => !referenced.has(k))).toEqual([]);
    }
  });

  it.each(FITSYNC)('%s starts in production with its manifest environment and the Secret, reaching the others by their Services', (name) => {
    const config = loadConfig(name, containerEnv(production, name, requiredSecrets));
    expect(config.production).toBe(true);
    expect(config.seedDemo).toBe(false);
    expect(config.jwtSecret).toBe(SECRET_VALUES.JWT_SECRET);
    expect(config.serviceSecret).toBe(SECRET_VALUES.SERVICE_SECRET);
    expect(config.host).toBe('0.0.0.0');
    // One prefix for the whole deployment, or services would not hear each other's events.
    expect(config.eventsPrefix).toBe('fitsync');
    for (const subgraph of SUBGRAPHS) {
      const url = new URL(config.subgraphUrls[subgraph]);
      const service = find(production, 'Service', url.hostname);
      expect(url.hostname).toBe(subgraph);
      expect(service.spec.ports.map((p: { port: number }) => p.port)).toEqual([Number(url.port)]);
      expect(url.pathname).toBe('/graphql');
    }
    // Redis (and Postgres for a subgraph) by the ExternalName Services the overlay points elsewhere.
    const redis = new URL(config.redisUrl!);
    expect(find(production, 'Service', redis.hostname).spec).toMatchObject({ type: 'ExternalName', ports: [{ port: Number(redis.port) }] });
    if (name === 'gateway') {
      expect(config.databaseUrl).toBeUndefined();
    } else {
      const db = new URL(config.databaseUrl!);
      expect(find(production, 'Service', db.hostname).spec).toMatchObject({ type: 'ExternalName', ports: [{ port: Number(db.port) }] });
      // Each subgraph in its own schema of the one database.
      expect(config.dbSchema).toBe(name);
    }
    // The rotation secrets and the metrics token are taken when the Secret has them.
    const full = loadConfig(name, containerEnv(production, name, SECRET_VALUES));
    expect(full).toMatchObject({
      jwtSecretPrevious: SECRET_VALUES.JWT_SECRET_PREVIOUS,
      serviceSecretPrevious: SECRET_VALUES.SERVICE_SECRET_PREVIOUS,
      metricsToken: SECRET_VALUES.METRICS_TOKEN,
    });
  });

  it('points Postgres and Redis somewhere real in production (the base names no host)', () => {
    for (const name of ['postgres', 'redis']) {
      expect(find(base, 'Service', name).spec.externalName).toMatch(/\.invalid$/);
      const external = find(production, 'Service', name).spec.externalName as string;
      expect(external).not.toMatch(/\.invalid$/);
      expect(external).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    }
  });

  it('serves the gateway the image supergraph, routed to the Services, shared by the replicas through Redis in production', () => {
    const config = loadConfig('gateway', containerEnv(production, 'gateway', requiredSecrets));
    expect(existsSync(join(root, config.supergraphPath))).toBe(true);
    const urls = Object.fromEntries([...read(config.supergraphPath).matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)].map((m) => [m[1], m[2]]));
    expect(urls).toEqual(config.subgraphUrls);
    expect(config.supergraphRedisKey).toBe('fitsync:supergraph');
    expect(loadConfig('gateway', containerEnv(base, 'gateway', requiredSecrets)).supergraphRedisKey).toBeUndefined();
    // One proxy hop (the ingress) in front of the gateway: rate limits see the client's address.
    expect(config.rateLimits.trustProxy).toBe(1);
    // No IDE in production unless asked for.
    expect(config.graphiqlPath).toBeUndefined();
  });
});
