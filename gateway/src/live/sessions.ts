import { randomUUID } from 'node:crypto';
import type { Clock, Logger, TokenVerifier } from '@fitsync/service-kit';
import type { GatewayContext } from '../context.js';
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

/** What the transport provides for a session: how to see its backlog and how to end its connection. */
export type SessionIo = Pick<Session, 'backlog' | 'cutOff' | 'expired'>;

/**
 * The connections open now, each with the user its token proved. One timer for all of them
 * checks the tokens against the gateway's clock: a pinned clock (tests) moves without
 * timers firing, and thousands of connections need not hold thousands of timers.
 */
export class Sessions {
  readonly #open = new Set<Session>();
  readonly #verifier: TokenVerifier;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sweep: NodeJS.Timeout;

  constructor(opts: { verifier: TokenVerifier; clock: Clock; log: Logger; expiryCheckMs: number }) {
    this.#verifier = opts.verifier;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#sweep = setInterval(() => {
      const now = this.#clock().getTime();
      for (const session of [...this.#open]) this.endIfExpired(session, now);
    }, opts.expiryCheckMs);
    this.#sweep.unref();
  }

  /** A session for a valid `Bearer` token, else undefined (the transport refuses the client). */
  async open(authorization: string | undefined, correlationId: string | undefined, clientAddress: string, io: SessionIo): Promise<Session | undefined> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return undefined;
    const user = await this.#verifier.verifyUser(token).catch(() => undefined);
    if (!user) return undefined;
    const id = correlationId ?? randomUUID();
    const session: Session = {
      context: {
        correlationId: id,
        viewer: { id: user.id, role: user.role },
        authorization,
        clientAddress,
        log: this.#log.child({ correlationId: id, userId: user.id }),
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
