import type { EventHandler } from '@fitsync/events';
import { notify, type Notice } from './notify.js';

type Party = 'client' | 'trainer';

/** The parties of a relationship other than the one who acted (both when an admin did). */
function othersThan(d: { client_id: string; trainer_id: string }, actor: string): { party: Party; id: string }[] {
  return (
    [
      { party: 'client', id: d.client_id },
      { party: 'trainer', id: d.trainer_id },
    ] as const
  ).filter((p) => p.id !== actor);
}

/** The other side is asked to answer. */
export const onCoachingRequested: EventHandler<'coaching.requested'> = async (event, ctx) => {
  const d = event.data;
  const byAdmin = d.requested_by !== d.client_id && d.requested_by !== d.trainer_id;
  const notices = othersThan(d, d.requested_by).map(({ party, id }): Notice => ({
    recipient_id: id,
    type: 'COACHING_REQUESTED',
    title: 'Coaching request',
    message:
      party === 'client'
        ? `${byAdmin ? 'The gym proposed a trainer for you' : 'A trainer asked to coach you'}. Once you accept, they see your profile, progress and bookings, and can plan programs and sessions with you.`
        : `${byAdmin ? 'The gym proposed a new client for you' : 'A client asked you to coach them'}. Accept the request to start training them.`,
  }));
  await notify(event, ctx, notices);
};

/** The side that asked hears that it was accepted. */
export const onCoachingAccepted: EventHandler<'coaching.accepted'> = async (event, ctx) => {
  const d = event.data;
  await notify(
    event,
    ctx,
    othersThan(d, d.accepted_by).map(({ party, id }) => ({
      recipient_id: id,
      type: 'COACHING_ACCEPTED' as const,
      title: 'Coaching accepted',
      message:
        party === 'trainer'
          ? 'Your client accepted coaching: you can now see their profile and progress, assign programs and book sessions.'
          : 'Coaching with your trainer is set up: they can now see your profile and progress and plan with you.',
    })),
  );
};

/** A declined request, or the end of a relationship with what it cancelled, to the other side (both when an admin did it). */
export const onCoachingEnded: EventHandler<'coaching.ended'> = async (event, ctx) => {
  const d = event.data;
  const programs = d.cancelled_program_ids.length;
  const cancelled =
    programs === 0
      ? ' Upcoming sessions between you are cancelled.'
      : ` ${programs === 1 ? 'Your open program' : `${programs} open programs`} and upcoming sessions between you are cancelled.`;
  await notify(
    event,
    ctx,
    othersThan(d, d.ended_by).map(({ party, id }) => ({
      recipient_id: id,
      type: 'COACHING_ENDED' as const,
      title: d.outcome === 'DECLINED' ? 'Coaching request declined' : 'Coaching ended',
      message:
        d.outcome === 'DECLINED'
          ? 'The coaching request between you was declined.'
          : `Coaching with your ${party === 'client' ? 'trainer' : 'client'} has ended: ${party === 'client' ? 'they no longer see your data' : 'you no longer see their data'}.${cancelled}`,
    })),
  );
};

/** The trainer learns they can now coach. */
export const onTrainerApproved: EventHandler<'trainer.approved'> = async (event, ctx) => {
  await notify(event, ctx, [
    {
      recipient_id: event.data.trainer_id,
      type: 'TRAINER_APPROVED',
      title: 'Trainer account approved',
      message: 'The gym approved your trainer account: clients can now find you, and you can ask them to train with you.',
    },
  ]);
};
