import type { NotificationKind, NotificationType } from '../__generated__/resolvers-types.js';
import { day, sessionKind, timeRange } from '../events/format.js';

/** What an email says besides the notification itself: facts read through the graph when it is sent. */
export interface MailFacts {
  recipientName: string;
  booking?: { date: string; startTime: string; endTime: string; type: string; status: string; trainerName: string | null; clientName: string | null };
  program?: { name: string; durationWeeks: number; startDate: string; endDate: string; trainerName: string | null };
}

export interface MailNotification {
  type: NotificationType;
  title: string;
  message: string;
  created_at: Date | string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const KIND_LABEL: Record<NotificationKind, string> = {
  BOOKINGS: 'booking',
  REMINDERS: 'reminder',
  PROGRAMS: 'program',
  PROGRESS: 'progress and achievement',
  ACCOUNT: 'account',
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for HTML: whatever a user typed (a name, a reason, a program's name) is shown, never run. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const weeks = (n: number) => `${n} week${n === 1 ? '' : 's'}`;

/** The lines of facts an email adds, as label and value. */
function factLines(n: MailNotification, facts: MailFacts): [string, string][] {
  const asOf = new Date(n.created_at).toISOString();
  const lines: [string, string][] = [];
  const b = facts.booking;
  if (b) {
    lines.push(['When', `${day(b.date, asOf)}, ${timeRange(b.startTime, b.endTime)}`]);
    lines.push(['Session', sessionKind(b.type)]);
    if (b.trainerName) lines.push(['Trainer', b.trainerName]);
    if (b.clientName) lines.push(['Client', b.clientName]);
    lines.push(['Status', b.status.toLowerCase()]);
  }
  const p = facts.program;
  if (p) {
    lines.push(['Program', p.name]);
    lines.push(['Length', weeks(p.durationWeeks)]);
    lines.push(['Starts', day(p.startDate, asOf)]);
    lines.push(['Ends', day(p.endDate, asOf)]);
    if (p.trainerName) lines.push(['Trainer', p.trainerName]);
  }
  return lines;
}

/**
 * The email of one notification: its title as the subject, the notification's text (which
 * holds what the event said: a milestone's values, a cancellation's reason), the facts of
 * what it is about, and the unsubscribe link for its kind. Plain text and HTML say the same;
 * in the HTML every value is escaped.
 */
export function renderMail(n: MailNotification, kind: NotificationKind, facts: MailFacts, links: { unsubscribe: string }): RenderedMail {
  const lines = factLines(n, facts);
  const label = KIND_LABEL[kind];
  const text = [
    `Hello ${facts.recipientName},`,
    '',
    n.message,
    ...(lines.length ? ['', ...lines.map(([k, v]) => `${k}: ${v}`)] : []),
    '',
    '-- ',
    `You get this email because ${label} emails are on in your FitSync notification preferences.`,
    `Stop ${label} emails: ${links.unsubscribe}`,
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${e(n.title)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.4">',
    `<p>Hello ${e(facts.recipientName)},</p>`,
    `<p>${e(n.message)}</p>`,
    ...(lines.length ? ['<table>', ...lines.map(([k, v]) => `<tr><th align="left">${e(k)}</th><td>${e(v)}</td></tr>`), '</table>'] : []),
    `<p style="color: #666; font-size: small">You get this email because ${e(label)} emails are on in your FitSync notification preferences.`,
    `<a href="${e(links.unsubscribe)}">Stop ${e(label)} emails</a>.</p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { subject: n.title, text, html };
}
