import { randomUUID } from 'node:crypto';
import { ErrorCode, type Clock, type Logger } from '@fitsync/service-kit';
import { tokenRefusal } from '../context.js';
import type { GatewayContext } from '../context.js';
import type { UserAuthenticator } from '../identity.js';
import type { LiveStream } from './stream.js';

/** What one connection (a WebSocket, or one SSE request) knows about its client. */
export interface Session {
  context: GatewayContext;
  streams: Set<LiveStream>;
  /** When the token expires (epoch ms on the gateway's clock). */
  expiresAt: number;
  backlog(): number;
  cutOff(reason: string): void;
  /** Tells the client its token expired, after its streams ended (WebSocket: close 4403; SSE: the response completes). */
  expired(): void;
}

/** Why a connection was refused: the code and HTTP status a POST with the same token would get. */
export interface Refusal {
  code: string;
  message: string;
  status: number;
}

/** What the transport provides for a session: how to see its backlog and how to end its connection. */
export type SessionIo = Pick<Session, 'backlog' | 'cutOff' | 'expired'>;

/**
 * The connections open now, each with the user its token proved. One timer for all of them
 * checks the tokens against the gateway's clock: a pinned clock (tests) moves without
 * timers firing, and thousands of connections need not hold thousands of timers.
 */
/** A refused `open`. */
export const isRefusal = (opened: Session | Refusal): opened is Refusal => 'code' in opened;

export class Sessions {
  readonly #open = new Set<Session>();
  readonly #users: UserAuthenticator;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sweep: NodeJS.Timeout;

  constructor(opts: { users: UserAuthenticator; clock: Clock; log: Logger; expiryCheckMs: number }) {
    this.#users = opts.users;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#sweep = setInterval(() => {
      const now = this.#clock().getTime();
      for (const session of [...this.#open]) this.endIfExpired(session, now);
    }, opts.expiryCheckMs);
    this.#sweep.unref();
  }

  /** A session for a valid `Bearer` token, else why not (the transport refuses the client). */
  async open(authorization: string | undefined, correlationId: string | undefined, clientAddress: string, io: SessionIo): Promise<Session | Refusal> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return { code: ErrorCode.UNAUTHENTICATED, message: 'A valid bearer token is required', status: 401 };
    let user: Awaited<ReturnType<UserAuthenticator['authenticate']>>;
    try {
      user = await this.#users.authenticate(token);
    } catch (err) {
      const refusal = tokenRefusal(err);
      if (!refusal) throw err;
      return { code: String(refusal.extensions.code), message: refusal.message, status: (refusal.extensions.http as { status: number }).status };
    }
    const id = correlationId ?? randomUUID();
    const session: Session = {
      context: {
        correlationId: id,
        viewer: user.viewer,
        authorization: user.authorization,
        clientAddress,
        log: this.#log.child({ correlationId: id, userId: user.viewer.id }),
      },
      streams: new Set(),
      expiresAt: user.exp * 1000,
      ...io,
    };
    this.#open.add(session);
    return session;
  }

  /** Ends the session's streams and forgets it; closing twice changes nothing. */
  close(session: Session) {
    for (const stream of session.streams) stream.end();
    this.#open.delete(session);
  }

  /** Ends a session whose token has expired by the gateway's clock, and tells its client. */
  endIfExpired(session: Session, now = this.#clock().getTime()) {
    if (now < session.expiresAt || !this.#open.has(session)) return;
    this.close(session);
    session.expired();
  }

  /** Every session open now. */
  all(): Session[] {
    return [...this.#open];
  }

  /** Streams of every session open now. */
  streams(): LiveStream[] {
    return this.all().flatMap((s) => [...s.streams]);
  }

  /** Stops checking for expiry and closes every session. */
  closeAll() {
    clearInterval(this.#sweep);
    for (const session of this.all()) this.close(session);
  }
}
