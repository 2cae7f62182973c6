// GraphiQL served by the gateway, driven in headless Chromium with every other host blocked:
// the page loads from the gateway alone, logs in from its Headers tab, runs ClientDashboard
// as the demo client, and shows a bookingChanged event that a mutation caused.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { createLogger } from '@fitsync/service-kit';
import { REQUIRE_SERVICES, testClock } from '@fitsync/service-kit/testing';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlRoutes } from '../gateway/src/graphiql.js';
import { ensureGraphiQL } from '../scripts/graphiql.js';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
// One of the demo client's sessions still to come: cancelling it is the event the IDE sees.
const upcoming = gym.bookings.find((b) => b.clientId === client.id && b.status === 'CONFIRMED' && b.date > today)!;

/** A page on `origin` that may reach nothing else: what it tried anyway, and what the browser refused. */
interface Watched {
  page: Page;
  context: BrowserContext;
  /** Requests to another origin (aborted). */
  blocked: string[];
  /** WebSockets the page opened. */
  sockets: string[];
  /** Console errors and uncaught exceptions (a Content Security Policy refusal is one). */
  problems: string[];
  /** Answers of 400 or more: what was asked, and whether it was GraphiQL's schema introspection. */
  failures: { url: string; status: number; introspection: boolean }[];
}

async function watchedPage(browser: Browser, origin: string): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const watched: Watched = { page: undefined as unknown as Page, context, blocked: [], sockets: [], problems: [], failures: [] };
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    watched.blocked.push(url);
    await route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  // A step that cannot happen fails with its locator's name, inside the test's own timeout.
  page.setDefaultTimeout(30_000);
  page.on('websocket', (ws) => watched.sockets.push(ws.url()));
  page.on('console', (msg) => {
    if (msg.type() === 'error') watched.problems.push(msg.text());
  });
  page.on('pageerror', (err) => watched.problems.push(err.message));
  page.on('response', (res) => {
    if (res.status() < 400) return;
    watched.failures.push({ url: res.url(), status: res.status(), introspection: (res.request().postData() ?? '').includes('__schema') });
  });
  watched.page = page;
  return watched;
}

/** Replaces the text of the Monaco editor under `scope` (the operation or the headers editor). */
async function setEditor(page: Page, scope: string, text: string) {
  const editor = page.locator(`${scope} .monaco-editor`).first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

const QUERY_EDITOR = '.graphiql-query-editor';
// The tools section holds the variables and the headers editors; the one not hidden is shown.
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const RESULT = '.result-window';

/** The result pane's text without white space: Monaco wraps long lines wherever the pane ends. */
const resultText = async (page: Page) => (await page.locator(RESULT).innerText()).replace(/\s+/g, '');

/**
 * Runs the operation named `name` that the operation editor holds, once GraphiQL has taken
 * the edit in (its tab is named after the operation), and returns the JSON the gateway
 * answered to it over HTTP.
 */
async function execute(page: Page, gatewayUrl: string, name: string): Promise<any> {
  await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), { timeout: 10_000 }).toBe(name);
  // GraphiQL takes an edit in after a debounce, and on a loaded machine a click can come before
  // the operation it would run is the one its tab already names (it then runs nothing): click
  // again, as a person would, until the request goes out; what it answers is what counts.
  for (let attempt = 1; ; attempt++) {
    const sent = page
      .waitForRequest((r) => r.url() === gatewayUrl && r.method() === 'POST' && (r.postDataJSON() as { operationName?: string }).operationName === name, {
        timeout: 5_000,
      })
      .catch(() => undefined);
    await page.locator('.graphiql-execute-button').click();
    const request = await sent;
    if (request) return (await request.response())!.json();
    if (attempt === 6) throw new Error(`GraphiQL sent no ${name} request after ${attempt} clicks; its result pane says: ${await resultText(page)}`);
  }
}

describe.skipIf(!haveChromium && !REQUIRE_SERVICES)('GraphiQL served by the gateway, in headless Chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let production: RunningGateway;
  let productionOff: RunningGateway;
  const pages: Watched[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`FITSYNC_REQUIRE_SERVICES=1 but there is no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
    await ensureGraphiQL();
    platform = await startPlatform('pglite', [gym], { clock });
    production = await platform.startGateway({}, { NODE_ENV: 'production', GRAPHIQL_PATH: '/graphiql', TRUSTED_DOCUMENTS: 'allow' });
    productionOff = await platform.startGateway({}, { NODE_ENV: 'production', TRUSTED_DOCUMENTS: 'allow' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    for (const w of pages) await w.context.close();
    await browser?.close();
    await platform?.close();
  });

  it('logs in from the Headers tab, runs ClientDashboard and sees a subscription event, asking no other host for anything', async () => {
    const origin = new URL(platform.gatewayUrl).origin;
    const w = await watchedPage(browser, origin);
    pages.push(w);
    const { page } = w;
    // What a browser's address bar sends: Accept prefers text/html.
    const loaded = await page.goto(platform.gatewayUrl);
    expect(loaded?.status()).toBe(200);
    expect(loaded?.headers()['content-type']).toMatch(/^text\/html/);
    await page.locator(`${QUERY_EDITOR} .monaco-editor`).first().waitFor();
    // The explorer lists the schema's fields (introspection, outside production).
    await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
    const listed = async () => (await page.locator('.graphiql-plugin').innerText()).split(/\s+/);
    await expect.poll(listed, { timeout: 15_000 }).toEqual(expect.arrayContaining(['me', 'users', 'program', 'booking']));

    // Log in: the login mutation, then its token in the headers editor.
    await setEditor(page, QUERY_EDITOR, `mutation Login { login(email: "${DEMO_LOGINS.client}", password: "${DEMO_PASSWORD}") { token } }`);
    const login = await execute(page, platform.gatewayUrl, 'Login');
    expect(login.errors).toBeUndefined();
    const token = login.data.login.token as string;
    await setEditor(page, HEADERS_EDITOR, JSON.stringify({ authorization: `Bearer ${token}` }));

    // ClientDashboard as the demo client: data from the gateway, shown in the result pane.
    await setEditor(page, QUERY_EDITOR, operation('ClientDashboard'));
    const dashboard = await execute(page, platform.gatewayUrl, 'ClientDashboard');
    expect(dashboard.errors).toBeUndefined();
    expect(dashboard.data.me).toMatchObject({ id: client.id, name: client.name, email: client.email, role: 'CLIENT' });
    expect(dashboard.data.me.upcomingBookings.length).toBeGreaterThan(0);
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain(`"email":"${client.email}"`);

    // A subscription over graphql-ws, authenticated with the same header, sees the cancellation a mutation makes.
    await setEditor(page, QUERY_EDITOR, 'subscription BookingChanged { bookingChanged { change booking { id status } } }');
    await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), { timeout: 10_000 }).toBe('BookingChanged');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => platform.gateway.live!.active(), { timeout: 10_000 }).toBe(1);
    const cancelled = await platform.query('mutation($id: ID!) { cancelBooking(id: $id, reason: "IDE test") { id status } }', { id: upcoming.id }, token);
    expect(cancelled.errors).toBeUndefined();
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('"change":"CANCELLED"');
    expect(await resultText(page)).toContain(`"booking":{"id":"${upcoming.id}","status":"CANCELLED"}`);

    expect(w.sockets).toEqual([platform.gatewayUrl.replace(/^http/, 'ws')]);
    expect(w.blocked).toEqual([]);
    expect(w.failures).toEqual([]);
    expect(w.problems).toEqual([]);
  }, 120_000);

  it('in production serves GraphiQL only at GRAPHIQL_PATH, under its own content security policy', async () => {
    const origin = new URL(production.url).origin;
    const w = await watchedPage(browser, origin);
    pages.push(w);
    const loaded = await w.page.goto(`${origin}/graphiql`);
    expect(loaded?.status()).toBe(200);
    await w.page.locator(`${QUERY_EDITOR} .monaco-editor`).first().waitFor();
    await setEditor(w.page, QUERY_EDITOR, 'query Typename { __typename }');
    const answer = await execute(w.page, production.url, 'Typename');
    expect(answer).toMatchObject({ data: { __typename: 'Query' } });
    expect(w.blocked).toEqual([]);
    // Introspection is off in production: GraphiQL's schema query is refused (and the console says
    // so), nothing else is.
    expect(w.failures.filter((f) => !f.introspection)).toEqual([]);
    expect(w.problems.filter((p) => !/status of 400/.test(p))).toEqual([]);

    // /graphql itself stays the API: a browser's GET gets a coded error naming where GraphiQL is.
    const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const bare = await fetch(production.url, { headers: html });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toEqual({ errors: [{ message: expect.stringContaining('GraphiQL is at /graphiql'), extensions: { code: 'BAD_REQUEST' } }] });
  }, 60_000);

  it('in production serves no GraphiQL unless GRAPHIQL_PATH is set, and a browser on /graphql gets a coded error, not a CSRF refusal', async () => {
    const base = new URL(productionOff.url).origin;
    const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const bare = await fetch(productionOff.url, { headers: html });
    expect(bare.status).toBe(400);
    const body = await bare.json();
    expect(body).toEqual({ errors: [{ message: expect.stringContaining('GRAPHIQL_PATH'), extensions: { code: 'BAD_REQUEST' } }] });
    expect(body.errors[0].message).not.toMatch(/CSRF|Cross-Site/i);
    for (const path of ['/graphiql', '/graphiql-assets/assets/index.js']) {
      const res = await fetch(`${base}${path}`, { headers: html });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
    }
    // Clients are unaffected: a GET with a query still runs it (with the CSRF header Apollo wants).
    const ran = await fetch(`${productionOff.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': '1' } });
    expect(ran.status).toBe(200);
  });

  it('outside production answers JSON clients on /graphql as before: only a browser asking for HTML gets the page', async () => {
    const json = await fetch(platform.gatewayUrl, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    const page = await fetch(platform.gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    // Every file the page names is the gateway's own.
    const text = await page.text();
    const refs = [...text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith('/graphiql-assets/'), ref).toBe(true);
      expect((await fetch(new URL(ref, platform.gatewayUrl))).status, ref).toBe(200);
    }
  });
});

describe('GraphiQL without its bundle (not built yet)', () => {
  it('answers a browser SERVICE_UNAVAILABLE as GraphQL JSON naming the build command, and leaves the API alone', async () => {
    const app = express();
    const routes = graphiqlRoutes('/graphql', createLogger('gateway', 'silent'), '/nonexistent/graphiql-dist/');
    app.use('/graphql', routes.page, (_req, res) => {
      res.json({ api: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(503);
      expect(await page.json()).toEqual({
        errors: [{ message: expect.stringContaining('npm run graphiql:build'), extensions: { code: 'SERVICE_UNAVAILABLE' } }],
      });
      expect(await (await fetch(url, { headers: { accept: 'application/json' } })).json()).toEqual({ api: true });
      expect(await (await fetch(`${url}?query=%7B__typename%7D`, { headers: { accept: 'text/html' } })).json()).toEqual({ api: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
