import type { NotificationPreferencesResolvers } from '../__generated__/resolvers-types.js';
import { KINDS, channelsOf } from '../preferences.js';

const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export const NotificationPreferences: NotificationPreferencesResolvers = {
  user: (p) => ({ id: p.userId }),
  kinds: (p) => KINDS.map((kind) => ({ kind, channels: channelsOf(p, kind) })),
  quietHours: (p) => p.quietHours,
  timeZone: () => TIME_ZONE,
};
