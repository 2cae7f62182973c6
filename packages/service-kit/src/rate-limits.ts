import { z } from 'zod';
import { durationSeconds } from './clock.js';

/** A budget: `points` in every window of `seconds` (the window starts at the first one spent). */
export interface Rate {
  points: number;
  seconds: number;
}

/** Gateway: the limits of DESIGN.md section 6 (`RATE_LIMITED`), each off when its variable says `off`. */
export interface RateLimitConfig {
  /** Proxy hops in front of the gateway whose `X-Forwarded-For` entry is believed (Express `trust proxy`); 0: the socket address. */
  trustProxy: number;
  /** Failed logins per account (normalised email) before it is blocked. */
  loginPerAccount: Rate | null;
  /** Failed logins per client address before it is blocked. */
  loginPerAddress: Rate | null;
  /** The first block after too many failed logins, in seconds; each further breach doubles it, up to `loginBlockMaxSeconds`. */
  loginBlockSeconds: number;
  loginBlockMaxSeconds: number;
  /** `register` attempts per client address. */
  registerPerAddress: Rate | null;
  /** Operations per user (verified token subject), or per address when anonymous. */
  operations: Rate | null;
  /** WebSocket and SSE connections one user may hold open at once (per gateway process). */
  liveConnections: number | null;
}

const RATE = /^\s*(\d+)\s*\/\s*(\S+)\s*$/;

/** `5/15m` as five per fifteen minutes; undefined when it is not one. */
export function parseRate(text: string): Rate | undefined {
  const match = RATE.exec(text);
  if (!match) return undefined;
  const points = Number(match[1]);
  try {
    const seconds = durationSeconds(match[2]);
    return points >= 1 && seconds >= 1 ? { points, seconds } : undefined;
  } catch {
    return undefined;
  }
}

const rate = () =>
  z
    .string()
    .refine((v) => v === 'off' || parseRate(v) !== undefined, 'a count per duration such as 5/15m or 1200/1m, or off')
    .optional();
const duration = () =>
  z
    .string()
    .refine((v) => {
      try {
        return durationSeconds(v) > 0;
      } catch {
        return false;
      }
    }, 'a duration such as 90s, 15m or 24h')
    .optional();

/** The variables, merged into the services' config schema (config.ts). */
export const rateLimitVariables = {
  TRUST_PROXY: z.coerce.number().int().min(0).max(20).default(0),
  RATE_LIMIT_LOGIN_ACCOUNT: rate(),
  RATE_LIMIT_LOGIN_ADDRESS: rate(),
  RATE_LIMIT_LOGIN_BLOCK: duration(),
  RATE_LIMIT_LOGIN_BLOCK_MAX: duration(),
  RATE_LIMIT_REGISTER: rate(),
  RATE_LIMIT_OPERATIONS: rate(),
  RATE_LIMIT_LIVE_CONNECTIONS: z
    .string()
    .regex(/^(?:off|[1-9]\d{0,5})$/, 'a number of connections (1 or more), or off')
    .optional(),
};

export const RATE_LIMIT_DEFAULTS = {
  RATE_LIMIT_LOGIN_ACCOUNT: '5/15m',
  RATE_LIMIT_LOGIN_ADDRESS: '20/1h',
  RATE_LIMIT_LOGIN_BLOCK: '15m',
  RATE_LIMIT_LOGIN_BLOCK_MAX: '24h',
  RATE_LIMIT_REGISTER: '10/1h',
  RATE_LIMIT_OPERATIONS: '1200/1m',
  RATE_LIMIT_LIVE_CONNECTIONS: '20',
} as const;

type Parsed = { TRUST_PROXY: number } & { [K in keyof typeof RATE_LIMIT_DEFAULTS]?: string };

/** The validated variables as limits (defaults filled in). */
export function readRateLimits(e: Parsed): RateLimitConfig {
  const value = (name: keyof typeof RATE_LIMIT_DEFAULTS) => e[name] ?? RATE_LIMIT_DEFAULTS[name];
  const rateOf = (name: keyof typeof RATE_LIMIT_DEFAULTS) => (value(name) === 'off' ? null : parseRate(value(name))!);
  const connections = value('RATE_LIMIT_LIVE_CONNECTIONS');
  return {
    trustProxy: e.TRUST_PROXY,
    loginPerAccount: rateOf('RATE_LIMIT_LOGIN_ACCOUNT'),
    loginPerAddress: rateOf('RATE_LIMIT_LOGIN_ADDRESS'),
    loginBlockSeconds: durationSeconds(value('RATE_LIMIT_LOGIN_BLOCK')),
    loginBlockMaxSeconds: durationSeconds(value('RATE_LIMIT_LOGIN_BLOCK_MAX')),
    registerPerAddress: rateOf('RATE_LIMIT_REGISTER'),
    operations: rateOf('RATE_LIMIT_OPERATIONS'),
    liveConnections: connections === 'off' ? null : Number(connections),
  };
}
