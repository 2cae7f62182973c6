import type { StreamEntry } from './streams.js';

/** An entry a consuming service gave up on, kept in its dead-letter stream. */
export interface DeadLetter {
  /** The entry's id in the dead-letter stream (what `replay` takes). */
  id: string;
  service: string;
  channel: string;
  event_id: string | null;
  correlation_id: string | null;
  error: string;
  attempts: number;
  failed_at: string;
  /** The envelope exactly as it was read (it may not be valid JSON). */
  envelope: string;
}

// The two directions of one stream format: what the consumer writes, what `deadLetters` reads back.

/** The fields of a dead-letter stream entry; `source` names the stream entry given up on. */
export const deadLetterFields = (letter: Omit<DeadLetter, 'id'>, source: StreamEntry): Record<string, string> => ({
  ...letter,
  event_id: letter.event_id ?? '',
  correlation_id: letter.correlation_id ?? '',
  attempts: String(letter.attempts),
  source: `${source.stream} ${source.id}`,
});

export const deadLetterFromEntry = (service: string, e: StreamEntry): DeadLetter => ({
  id: e.id,
  service,
  channel: e.fields.channel ?? '',
  event_id: e.fields.event_id || null,
  correlation_id: e.fields.correlation_id || null,
  error: e.fields.error ?? '',
  attempts: Number(e.fields.attempts ?? 0),
  failed_at: e.fields.failed_at ?? '',
  envelope: e.fields.envelope ?? '',
});
