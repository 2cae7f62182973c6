// Issue: schema hot reload keeps every subscription whose operation is still valid; the
// others end with a clear error. The gateway watches a supergraph file here.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compose, formatProblems } from '@fitsync/composition';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const notification = gym.notifications.find((n) => n.recipientId === client.id)!;

describe.each(storageBackends())('subscriptions across a supergraph hot reload on %s', (backend) => {
  let platform: Platform;
  let gateway: RunningGateway;
  let dir: string;
  const subs: LiveSubscription[] = [];

  const supergraph = (edit?: (sdl: string) => string) => {
    const result = compose(platform.sources.map((s) => (s.name === 'notifications' && edit ? { ...s, sdl: edit(s.sdl) } : s)));
    if (!result.ok) throw new Error(formatProblems(result.problems));
    return result.supergraphSdl;
  };
  const publish = async (sdl: string) => {
    // As schema:publish does: a new file renamed over the old one.
    await writeFile(join(dir, 'next.graphql'), sdl);
    await rename(join(dir, 'next.graphql'), join(dir, 'supergraph.graphql'));
    await gateway.supergraph.reload();
  };

  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
    dir = await mkdtemp(join(tmpdir(), 'fitsync-live-reload-'));
    await writeFile(join(dir, 'supergraph.graphql'), supergraph());
    gateway = await platform.startGateway({ supergraphSdl: undefined }, { SUPERGRAPH_PATH: join(dir, 'supergraph.graphql') });
  });
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.dispose()));
    await platform?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps a subscription whose field survives and ends, with GRAPHQL_VALIDATION_FAILED, one whose field was removed', async () => {
    const token = await platform.tokenFor(client);
    const kept = subscribeWs(gateway.url, token, 'subscription { notificationAdded { id title } }');
    const dropped = subscribeWs(gateway.url, token, 'subscription { unreadNotificationCountChanged }');
    subs.push(kept, dropped);
    await until(() => gateway.live!.active() === 2, 5_000, 'two subscriptions');

    const before = gateway.supergraph.status().hash;
    await publish(
      supergraph((sdl) => sdl.replace(/\n\s*"The caller's unread count, whenever it changes."\n\s*unreadNotificationCountChanged: Int![^\n]*/, '')),
    );
    expect(gateway.supergraph.status().hash).not.toBe(before);

    await until(() => dropped.completed, 5_000, 'the dropped subscription to complete');
    expect(dropped.events).toHaveLength(1);
    expect(dropped.events[0].errors?.[0]).toMatchObject({
      message: expect.stringContaining('Subscription ended: the schema changed'),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(kept.completed).toBe(false);
    expect(gateway.live!.active()).toBe(1);

    await platform.subgraphs.notifications.live.publish('notificationAdded', { notification_id: notification.id, recipient_id: client.id });
    await kept.waitFor(1);
    expect(kept.events[0]).toEqual({ data: { notificationAdded: { id: notification.id, title: notification.title } } });

    // A new subscription to the removed field is refused under the new schema.
    const late = subscribeWs(gateway.url, token, 'subscription { unreadNotificationCountChanged }');
    subs.push(late);
    await until(() => late.errors.length > 0 || late.completed, 5_000, 'the late subscription to be refused');
    expect(JSON.stringify(late.errors)).toContain('unreadNotificationCountChanged');
  });
});
