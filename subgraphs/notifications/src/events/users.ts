import type { EventHandler } from '@fitsync/events';
import { changeList } from './format.js';
import { notify } from './notify.js';

/** A profile change is confirmed to its owner, who would spot one they did not make. */
export const onUserUpdated: EventHandler<'user.updated'> = async (event, ctx) => {
  const d = event.data;
  await notify(event, ctx, [
    {
      recipient_id: d.user_id,
      type: 'PROFILE_UPDATED',
      title: 'Profile updated',
      message: `Your profile was updated: ${changeList(d.changes)}. If you did not make this change, contact your gym.`,
    },
  ]);
};
