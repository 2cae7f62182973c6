import { randomUUID } from 'node:crypto';
import {
  badInput,
  conflict,
  forbidden,
  hashPassword,
  notFound,
  parseId,
  parseInput,
  requireViewer,
  unauthenticated,
  verifyPassword,
} from '@fitsync/service-kit';
import { decodeJwt } from 'jose';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import { assertCanApproveTrainers, assertCanChangeUser } from '../access.js';
import type { ClientProfile, TrainerProfile, UserRow } from '../store.js';
import { registerInput, updateProfileInput } from '../validation.js';
import { approveTrainer, insertUser, updateUser } from '../writes.js';

// Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
const UNKNOWN_USER_HASH = hashPassword(randomUUID());

/**
 * The payload's user is the one just signed in: the rest of this request sees them
 * as the viewer, so `login { user { email } }` works without a second round trip.
 */
async function authPayload(user: UserRow, ctx: Context) {
  ctx.viewer = { id: user.id, role: user.role };
  const token = await ctx.services.tokens.sign(ctx.viewer, ctx.clock);
  return { token, user, expiresAt: new Date(decodeJwt(token).exp! * 1000) };
}

const trainerDefaults = (p: Partial<TrainerProfile> | null | undefined): TrainerProfile => ({
  certifications: p?.certifications ?? [],
  specializations: p?.specializations ?? [],
  yearsExperience: p?.yearsExperience ?? 0,
  rating: null,
  bio: p?.bio ?? null,
});

const clientDefaults = (p: Partial<ClientProfile> | null | undefined): ClientProfile => ({
  fitnessLevel: p?.fitnessLevel ?? 'BEGINNER',
  healthClearance: p?.healthClearance ?? false,
  emergencyContact: p?.emergencyContact ?? null,
  dateOfBirth: p?.dateOfBirth ?? null,
  goalsSummary: p?.goalsSummary ?? null,
});

export const Mutation: MutationResolvers = {
  register: async (_, { input }, ctx) => {
    const data = parseInput(registerInput, input);
    const role = data.role ?? 'CLIENT';
    if (await ctx.store.userByEmail(data.email)) throw conflict('An account with this email already exists', 'EMAIL_TAKEN');
    const user = await insertUser(ctx.store.db, {
      id: randomUUID(),
      email: data.email,
      name: data.name,
      role,
      phone: data.phone ?? null,
      password_hash: await hashPassword(data.password),
      trainer_profile: role === 'TRAINER' ? trainerDefaults(data.trainerProfile) : null,
      client_profile: role === 'CLIENT' ? clientDefaults(data.clientProfile) : null,
      created_at: ctx.clock(),
    }).catch((err: { code?: string }) => {
      // Two registrations racing for one email: the unique index decides.
      if (err.code === '23505') throw conflict('An account with this email already exists', 'EMAIL_TAKEN');
      throw err;
    });
    ctx.log.info({ userId: user.id, role }, 'user registered');
    return authPayload(user, ctx);
  },

  login: async (_, { email, password }, ctx) => {
    const user = await ctx.store.userByEmail(email.trim());
    const ok = await verifyPassword(password, user?.password_hash ?? (await UNKNOWN_USER_HASH));
    if (!user || !ok) throw unauthenticated('Invalid email or password');
    return authPayload(user, ctx);
  },

  updateProfile: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    const data = parseInput(updateProfileInput, input);
    const targetId = data.userId ?? viewer.id;
    assertCanChangeUser(viewer, targetId);
    const current = await ctx.store.userById(targetId);
    if (!current) throw notFound('User', targetId);
    if (data.trainerProfile && current.role !== 'TRAINER') throw forbidden('Only trainers have a trainer profile');
    if (data.clientProfile && current.role !== 'CLIENT') throw forbidden('Only clients have a client profile');
    const next = {
      name: data.name ?? undefined,
      phone: data.phone ?? undefined,
      avatar_url: data.avatarUrl ?? undefined,
      trainer_profile: data.trainerProfile ? { ...trainerDefaults(current.trainer_profile), ...stripNullish(data.trainerProfile) } : undefined,
      client_profile: data.clientProfile ? { ...clientDefaults(current.client_profile), ...stripNullish(data.clientProfile) } : undefined,
    };
    const changes = changedFields(current, next);
    if (changes.length === 0) return current;
    return ctx.store.db.transaction(async (tx) => {
      const updated = await updateUser(tx, targetId, next);
      if (!updated) throw notFound('User', targetId);
      await ctx.events.emit(tx, 'user.updated', { user_id: targetId, changes });
      return updated;
    });
  },

  approveTrainer: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    assertCanApproveTrainers(viewer);
    const trainerId = parseId(id);
    return ctx.store.db.transaction(async (tx) => {
      const approved = await approveTrainer(tx, trainerId, viewer.id, ctx.clock());
      if (!approved) {
        // Nothing was approved: say why, having changed nothing.
        const [user] = await tx.query<UserRow>('SELECT id, role, approved_at FROM users WHERE id = $1', [trainerId]);
        if (!user) throw notFound('User', trainerId);
        if (user.role !== 'TRAINER') throw badInput(`id: user ${trainerId} is not a trainer`, 'id');
        throw conflict('This trainer is already approved', 'ALREADY_APPROVED');
      }
      await ctx.events.emit(tx, 'trainer.approved', { trainer_id: trainerId, approved_by: viewer.id });
      ctx.log.info({ trainerId }, 'trainer approved');
      return approved;
    });
  },
};

/** The columns whose value really changes: the event lists those, and nothing changes without one. */
function changedFields(current: UserRow, next: Partial<Record<keyof UserRow, unknown>>): string[] {
  return (Object.keys(next) as (keyof UserRow)[]).filter((k) => next[k] !== undefined && canonical(next[k]) !== canonical(current[k]));
}

/** JSON with object keys sorted: jsonb hands profiles back in its own key order. */
const canonical = (v: unknown): string =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? `{${Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : JSON.stringify(v ?? null);

function stripNullish<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
