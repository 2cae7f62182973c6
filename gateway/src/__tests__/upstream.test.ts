import { describe, expect, it } from 'vitest';
import { UpstreamSubscriptions, wsUrl, type UpstreamRequest } from '../live/upstream.js';

const request: UpstreamRequest = {
  subgraph: 'announcements',
  url: 'http://announcements:4010/graphql',
  transport: 'ws',
  query: 'subscription Announcements__announcements__0($channel: String!) { announcement(channel: $channel) { text } }',
  operationName: 'Announcements__announcements__0',
  variables: { channel: 'lobby' },
  authorization: 'Bearer a',
  correlationId: 'c1',
};

describe('upstream subscriptions', () => {
  it('reach graphql-ws at the routing URL: ws:// for http://, wss:// for https://, the same host and path', () => {
    expect(wsUrl('http://announcements:4010/graphql')).toBe('ws://announcements:4010/graphql');
    expect(wsUrl('https://announcements.internal/api/graphql?x=1')).toBe('wss://announcements.internal/api/graphql?x=1');
  });

  it('are the same one for the same fetch, variables and caller, whatever the correlation id, and another otherwise', () => {
    const key = UpstreamSubscriptions.key(request);
    expect(UpstreamSubscriptions.key({ ...request, correlationId: 'c2' })).toBe(key);
    for (const other of [
      { authorization: 'Bearer b' },
      { authorization: undefined },
      { variables: { channel: 'other' } },
      { transport: 'sse' as const },
      { url: 'http://elsewhere:4010/graphql' },
      { query: request.query.replace('text', 'text author { id }') },
    ]) {
      expect(UpstreamSubscriptions.key({ ...request, ...other })).not.toBe(key);
    }
  });

  it("go over one connection for one caller's subscriptions to one subgraph, whatever the fetch, and never over another caller's", () => {
    const key = UpstreamSubscriptions.connectionKey(request);
    for (const same of [{ variables: { channel: 'other' } }, { query: request.query.replace('text', 'text author { id }') }, { correlationId: 'c2' }]) {
      expect(UpstreamSubscriptions.connectionKey({ ...request, ...same })).toBe(key);
    }
    for (const other of [
      { authorization: 'Bearer b' },
      { authorization: undefined },
      { transport: 'sse' as const },
      { url: 'http://elsewhere:4010/graphql' },
      { subgraph: 'other' },
    ]) {
      expect(UpstreamSubscriptions.connectionKey({ ...request, ...other })).not.toBe(key);
    }
  });
});
