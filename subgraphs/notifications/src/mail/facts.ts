import { RemoteGraphQLError, serviceOperation, signUserToken, userSecrets, type Role, type ServiceClient, type ServiceConfig } from '@fitsync/service-kit';
import type { Clock } from '@fitsync/service-kit/clock';
import { z } from 'zod';
import type { MailFacts } from './templates.js';

type Reps<T extends string> = { r: { __typename: T; id: string }[] };

const RECIPIENTS = serviceOperation<Reps<'User'>>()(
  'query MailRecipients($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name email role } } }',
  z.object({
    _entities: z.array(z.object({ id: z.string(), name: z.string(), email: z.string().nullable(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']) }).nullable()),
  }),
);

const NAMES = serviceOperation<Reps<'User'>>()(
  'query MailNames($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }',
  z.object({ _entities: z.array(z.object({ id: z.string(), name: z.string() }).nullable()) }),
);

const booking = z.object({
  id: z.string(),
  date: z.string(),
  startTime: z.string(),
  endTime: z.string(),
  type: z.string(),
  status: z.string(),
  trainer: z.object({ id: z.string() }),
  client: z.object({ id: z.string() }),
});
const BOOKINGS = serviceOperation<Reps<'Booking'>>()(
  'query MailBookings($r: [_Any!]!) { _entities(representations: $r) { ... on Booking { id date startTime endTime type status trainer { id } client { id } } } }',
  z.object({ _entities: z.array(booking.nullable()) }),
);

const program = z.object({
  id: z.string(),
  name: z.string(),
  durationWeeks: z.number(),
  startDate: z.string(),
  endDate: z.string(),
  trainer: z.object({ id: z.string() }),
});
const PROGRAMS = serviceOperation<Reps<'Program'>>()(
  'query MailPrograms($r: [_Any!]!) { _entities(representations: $r) { ... on Program { id name durationWeeks startDate endDate trainer { id } } } }',
  z.object({ _entities: z.array(program.nullable()) }),
);

export interface Recipient {
  id: string;
  name: string;
  email: string | null;
  role: Role;
}

export interface FactsClients {
  users: ServiceClient;
  schedule: ServiceClient;
  training: ServiceClient;
}

const reps = <T extends string>(typename: T, ids: Iterable<string>) => ({ r: [...new Set(ids)].map((id) => ({ __typename: typename, id })) });

/** Names, addresses and roles of users, in one request to users (no end user: the sender's own call). Missing users are left out. */
export async function recipientsOf(clients: FactsClients, ids: readonly string[], correlationId: string): Promise<Map<string, Recipient>> {
  const { r } = reps('User', ids);
  if (r.length === 0) return new Map();
  const data = await clients.users.call(RECIPIENTS, { r }, { correlationId });
  return new Map(data._entities.filter((u): u is Recipient => u !== null).map((u) => [u.id, u]));
}

export interface FactRequest {
  recipient: Recipient;
  bookingId: string | null;
  programId: string | null;
}

/**
 * The facts each email shows, read at send time from their owners, as the recipient: a
 * token for them is signed for these calls only, so an email holds exactly what its
 * recipient may see in the app. One request per owner and recipient, then one to users for
 * every name they mention. A booking or program that is gone (or no longer theirs to see)
 * is left out; an owner that is down fails the call (the mail is retried).
 */
export async function factsFor(
  clients: FactsClients,
  config: ServiceConfig,
  clock: Clock,
  requests: readonly FactRequest[],
  correlationId: string,
): Promise<MailFacts[]> {
  const byRecipient = new Map<string, FactRequest[]>();
  for (const req of requests) byRecipient.set(req.recipient.id, [...(byRecipient.get(req.recipient.id) ?? []), req]);
  const bookings = new Map<string, z.infer<typeof booking>>();
  const programs = new Map<string, z.infer<typeof program>>();
  await Promise.all(
    [...byRecipient.values()].map(async (reqs) => {
      const { recipient } = reqs[0];
      const token = await signUserToken({ id: recipient.id, role: recipient.role }, userSecrets(config), '5m', clock);
      const caller = { authorization: `Bearer ${token}`, correlationId };
      const bookingIds = reqs.flatMap((q) => (q.bookingId ? [q.bookingId] : []));
      const programIds = reqs.flatMap((q) => (q.programId ? [q.programId] : []));
      const [b, p] = await Promise.all([
        bookingIds.length ? readOrNothing(() => clients.schedule.call(BOOKINGS, reps('Booking', bookingIds), caller)) : null,
        programIds.length ? readOrNothing(() => clients.training.call(PROGRAMS, reps('Program', programIds), caller)) : null,
      ]);
      for (const x of b?._entities ?? []) if (x) bookings.set(`${recipient.id}:${x.id}`, x);
      for (const x of p?._entities ?? []) if (x) programs.set(`${recipient.id}:${x.id}`, x);
    }),
  );
  const mentioned = [...bookings.values()].flatMap((b) => [b.trainer.id, b.client.id]).concat([...programs.values()].map((p) => p.trainer.id));
  const names = new Map<string, string>();
  if (mentioned.length) {
    const data = await clients.users.call(NAMES, reps('User', mentioned), { correlationId });
    for (const u of data._entities) if (u) names.set(u.id, u.name);
  }
  return requests.map(({ recipient, bookingId, programId }) => {
    const b = bookingId ? bookings.get(`${recipient.id}:${bookingId}`) : undefined;
    const p = programId ? programs.get(`${recipient.id}:${programId}`) : undefined;
    return {
      recipientName: recipient.name,
      booking: b && {
        date: b.date,
        startTime: b.startTime,
        endTime: b.endTime,
        type: b.type,
        status: b.status,
        // Who the session is with: the other party.
        trainerName: b.trainer.id === recipient.id ? null : (names.get(b.trainer.id) ?? null),
        clientName: b.client.id === recipient.id ? null : (names.get(b.client.id) ?? null),
      },
      program: p && {
        name: p.name,
        durationWeeks: p.durationWeeks,
        startDate: p.startDate,
        endDate: p.endDate,
        trainerName: p.trainer.id === recipient.id ? null : (names.get(p.trainer.id) ?? null),
      },
    };
  });
}

/** The owner's refusal (gone, not theirs to see) is no facts; its being down is thrown. */
async function readOrNothing<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof RemoteGraphQLError) return null;
    throw err;
  }
}
