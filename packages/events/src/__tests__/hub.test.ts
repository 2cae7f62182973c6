// npm start's in-process bus: the supervisor hosts it, its service processes use it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEventHub, type EventHub } from '../index.js';

const CHILD = fileURLToPath(new URL('./fixtures/hub-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

describe('event hub over IPC', () => {
  let hub: EventHub;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    children.length = 0;
    await hub?.close();
  });

  const start = (role: string, prefix: string) => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', TSX],
      env: { ...process.env, ...hub.env, ROLE: role, TEST_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    hub.attach(child);
    children.push(child);
    const messages: Record<string, unknown>[] = [];
    child.on('message', (m: unknown) => {
      if ((m as { test?: boolean }).test) messages.push(m as Record<string, unknown>);
    });
    const until = (pred: (all: Record<string, unknown>[]) => boolean) =>
      vi.waitFor(
        () => {
          if (!pred(messages)) throw new Error(`${role} sent only ${JSON.stringify(messages)}`);
          return messages;
        },
        { timeout: 10_000, interval: 20 },
      );
    return { child, until };
  };

  it('carries events between processes with consumer groups, and live messages to subscribers', async () => {
    hub = createEventHub();
    const prefix = `hub-${randomBytes(3).toString('hex')}`;
    const consumer = start('consumer', prefix);
    await consumer.until((m) => m.some((x) => x.ready));
    const publisher = start('publisher', prefix);
    const [{ published }] = (await publisher.until((m) => m.some((x) => x.published))) as { published: string[] }[];
    const got = await consumer.until((m) => m.filter((x) => x.handled).length >= 3 && m.some((x) => x.live));
    expect(got.filter((x) => x.handled).map((x) => x.handled)).toEqual(published);
    expect(got.find((x) => x.handled)?.kind).toBe('hub');
    expect(got.find((x) => x.live)?.live).toEqual({ notification_id: published[0], recipient_id: published[1] });
  });

  // Issue 14: each read over IPC left an abort listener on the signal (MaxListenersExceededWarning).
  it('leaves no abort listener behind on the signal a child passes to its reads, and still cancels a blocked read', async () => {
    hub = createEventHub();
    const reader = start('reader', `hub-${randomBytes(3).toString('hex')}`);
    const [result] = await reader.until((m) => m.some((x) => 'afterReads' in x));
    expect(result).toMatchObject({ afterReads: 0, aborted: [] });
  });
});
