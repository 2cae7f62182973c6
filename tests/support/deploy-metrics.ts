// What the operators' files in deploy/ ask Prometheus for: every PromQL expression of the Grafana
// dashboard and of the alert rules, and the series selectors in them (metric name and label
// matchers), so tests can hold them against what the services really export.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD_PATH = `${ROOT}deploy/grafana/fitsync.json`;
export const ALERTS_PATH = `${ROOT}deploy/prometheus/alerts.yml`;

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
export interface Selector {
  metric: string;
  matchers: Matcher[];
}
export interface Expression {
  /** Where it comes from: `dashboard: <panel title>` or `alert: <name>`. */
  origin: string;
  expr: string;
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

export function dashboardExpressions(path = DASHBOARD_PATH): Expression[] {
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as { panels: Panel[] };
  const walk = (panels: Panel[]): Expression[] =>
    panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ origin: `dashboard: ${p.title}`, expr: t.expr })), ...walk(p.panels ?? [])]);
  return walk(dashboard.panels);
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(path = ALERTS_PATH): AlertRule[] {
  const doc = parseYaml(readFileSync(path, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export const alertExpressions = (path = ALERTS_PATH): Expression[] => alertRules(path).map((r) => ({ origin: `alert: ${r.alert}`, expr: r.expr }));

// Words of PromQL that are not metric names when they stand alone (functions are recognised by their parenthesis).
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The series selectors of one PromQL expression. Grouping clauses (`by (le, service)`), range
 * and subquery brackets (`[5m]`, `[$__rate_interval]`) and string literals are set aside first;
 * an identifier followed by `(` is a function or aggregation; what is left names a metric,
 * with the label matchers of its braces.
 */
export function selectorsOf(expr: string): Selector[] {
  const text = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  const selectors: Selector[] = [];
  const token = /"(?:[^"\\]|\\.)*"|\d[\w.]*|([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g;
  for (const m of text.matchAll(token)) {
    const [, name, braces, call] = m;
    if (!name || call || KEYWORDS.has(name.toLowerCase())) continue;
    const matchers = [...(braces ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({
      label: label,
      op: op as Matcher['op'],
      value: value,
    }));
    selectors.push({ metric: name, matchers });
  }
  return selectors;
}

/** The metric family a series name belongs to (a histogram's `_bucket`, `_sum` and `_count` are its own). */
export function familyOf(series: string, families: ReadonlySet<string>): string | undefined {
  if (families.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return families.has(base) ? base : undefined;
}

/** The series of a Prometheus text exposition: name and labels of each sample line. */
export function parseExposition(text: string): { name: string; labels: Record<string, string> }[] {
  const out: { name: string; labels: Record<string, string> }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
    out.push({ name: m[1], labels });
  }
  return out;
}

/** Whether a series satisfies a selector: its name, and every label matcher (a regex matcher is anchored, as in PromQL). */
export function matches(selector: Selector, series: { name: string; labels: Record<string, string> }): boolean {
  if (series.name !== selector.metric) return false;
  return selector.matchers.every(({ label, op, value }) => {
    const actual = series.labels[label] ?? '';
    if (op === '=') return actual === value;
    if (op === '!=') return actual !== value;
    const re = new RegExp(`^(?:${value})$`);
    return op === '=~' ? re.test(actual) : !re.test(actual);
  });
}
