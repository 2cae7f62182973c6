/** How notification texts write dates, times, quantities and lists. */

const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const NUMBER = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });

/**
 * 'YYYY-MM-DD' as "Thursday 27 November", with the year when it is not the year of
 * `asOf` (the event's timestamp). Bookings hold the gym's calendar day, so no time
 * zone applies.
 */
export function day(date: string, asOf: string): string {
  const at = new Date(`${date}T00:00:00Z`);
  const part = Object.fromEntries(DAY.formatToParts(at).map((p) => [p.type, p.value]));
  const sameYear = at.getUTCFullYear() === new Date(asOf).getUTCFullYear();
  return `${part.weekday} ${part.day} ${part.month}${sameYear ? '' : ` ${part.year}`}`;
}

/** 'HH:MM:SS' as '14:00'. */
export const clock = (time: string) => time.slice(0, 5);

export const timeRange = (start: string, end: string) => `${clock(start)}–${clock(end)}`;

const SESSION_KINDS: Record<string, string> = {
  ONE_ON_ONE: 'one-on-one session',
  GROUP: 'group session',
  ASSESSMENT: 'assessment',
  VIRTUAL: 'virtual session',
};
export const sessionKind = (type: string) => SESSION_KINDS[type] ?? 'session';

export const number = (n: number) => NUMBER.format(n);
/** A change with its sign: "+0.5", "−0.3" (a real minus sign), "no change". */
export const signed = (n: number) => (n === 0 ? '±0' : `${n > 0 ? '+' : '−'}${NUMBER.format(Math.abs(n))}`);

export const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;

/** `workout_plan_updated`, `durationWeeks` -> "workout plan updated", "duration weeks". */
export const words = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();

/** "a", "a and b", "a, b and c". */
export function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The fields an `*.updated` event names, as words: "name and duration weeks". */
export const changeList = (changes: string[]) => list(changes.map(words));

/** A free text a user typed, ending a sentence: trimmed, with one final full stop. */
export const sentence = (text: string) => {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
};

interface Measure {
  label: string;
  unit: string;
}
const MEASURES: Record<string, Measure> = {
  weight_kg: { label: 'weight', unit: ' kg' },
  body_fat_percentage: { label: 'body fat', unit: '%' },
  muscle_mass_kg: { label: 'muscle mass', unit: ' kg' },
  resting_heart_rate: { label: 'resting heart rate', unit: ' bpm' },
  workouts_per_week: { label: 'workouts per week', unit: '' },
};

/** A body metric or goal metric by key (`weight_kg` or `WEIGHT_KG`): its label and unit. */
export const measure = (key: string): Measure => MEASURES[key.toLowerCase()] ?? { label: words(key), unit: '' };

export const quantity = (key: string, value: number) => `${number(value)}${measure(key).unit}`;
