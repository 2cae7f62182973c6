import { badInput, isAdmin, notFound, pageSize, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertCanListUsers } from '../access.js';
import type { UserPageKey } from '../store.js';

export const encodeCursor = (key: UserPageKey) => Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');

function decodeCursor(cursor: string): UserPageKey {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (Number.isNaN(Date.parse(createdAt))) throw new Error('bad date');
    return { createdAt, id: parseId(id) };
  } catch {
    throw badInput('after is not a cursor this API returned', 'after');
  }
}

export const Query: QueryResolvers = {
  me: (_, __, ctx) => ctx.store.userById(requireViewer(ctx).id),

  user: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const user = await ctx.store.userById(parseId(id));
    if (!user) throw notFound('User', id);
    return user;
  },

  users: async (_, { role, first, after }, ctx) => {
    const viewer = requireViewer(ctx);
    assertCanListUsers(viewer, role);
    const size = pageSize(first, 20);
    // A trainer no admin approved is nobody's trainer yet: only admins see them listed.
    const { rows, total } = await ctx.store.page(role ?? null, size, after ? decodeCursor(after) : null, !isAdmin(viewer));
    const page = rows.slice(0, size);
    const edges = page.map((node) => ({ node, cursor: encodeCursor({ createdAt: new Date(node.created_at).toISOString(), id: node.id }) }));
    return { edges, totalCount: total, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
  },
};
