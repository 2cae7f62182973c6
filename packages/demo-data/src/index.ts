/**
 * One deterministic gym, generated from a seed and a date, that each subgraph
 * seeds its own slice of (users their accounts, schedule its bookings, ...).
 * The same options give the same ids everywhere, so references across subgraphs
 * line up without any service calling another.
 */
import { createHash } from 'node:crypto';
import { addDays } from '@fitsync/service-kit/clock';

export const DEMO_PASSWORD = 'fitsync-demo';
export const DEMO_LOGINS = {
  trainer: 'trainer@fitsync.test',
  client: 'client@fitsync.test',
  admin: 'admin@fitsync.test',
} as const;

export type Role = 'CLIENT' | 'TRAINER' | 'ADMIN';
export type FitnessLevel = 'BEGINNER' | 'INTERMEDIATE' | 'ADVANCED';

export interface GymUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  phone: string;
  createdAt: Date;
  /** Trainers: when an admin approved them (every seeded trainer is approved). */
  approvedAt?: Date;
  trainerProfile?: { certifications: string[]; specializations: string[]; yearsExperience: number; rating: number; bio: string };
  clientProfile?: {
    fitnessLevel: FitnessLevel;
    healthClearance: boolean;
    emergencyContact: { name: string; phone: string; relationship: string };
    dateOfBirth: string;
    goalsSummary: string;
  };
}

export interface GymProgram {
  id: string;
  clientId: string;
  trainerId: string;
  name: string;
  description: string;
  startDate: string;
  durationWeeks: number;
  status: 'ACTIVE' | 'COMPLETED';
  adherenceRate: number | null;
  completedAt: Date | null;
  workoutPlan: { id: string; name: string; sessionsPerWeek: number; exercises: { name: string; sets: number; reps: number; restSeconds: number }[] };
  dietPlan: { id: string; name: string; dailyCalories: number; proteinGrams: number; carbsGrams: number; fatGrams: number };
}

/** An accepted coaching relationship: the trainer asked, the client accepted. One per trainer and client with a program. */
export interface GymCoaching {
  id: string;
  clientId: string;
  trainerId: string;
  requestedBy: string;
  requestedAt: Date;
  acceptedAt: Date;
}

export interface GymBooking {
  id: string;
  clientId: string;
  trainerId: string;
  programId: string;
  gymId: string;
  date: string;
  startTime: string;
  endTime: string;
  type: 'ONE_ON_ONE' | 'GROUP' | 'ASSESSMENT' | 'VIRTUAL';
  status: 'CONFIRMED' | 'COMPLETED' | 'CANCELLED' | 'NO_SHOW';
  notes: string | null;
  trainerNotes: string | null;
  cancellationReason: string | null;
}

export interface GymBodyMetric {
  id: string;
  clientId: string;
  recordedAt: Date;
  weightKg: number;
  bodyFatPercentage: number;
  muscleMassKg: number;
  restingHeartRate: number;
}

export interface GymWorkoutLog {
  id: string;
  clientId: string;
  trainerId: string;
  bookingId: string;
  programId: string;
  workoutDate: string;
  durationMinutes: number;
  exercises: { name: string; sets: number; reps: number; weightKg: number }[];
  perceivedEffort: number;
  notes: string | null;
}

export interface GymAchievement {
  id: string;
  clientId: string;
  type: 'PROGRAM_COMPLETION' | 'WORKOUT_COUNT' | 'WEIGHT_MILESTONE';
  title: string;
  description: string;
  badgeIcon: string;
  earnedAt: Date;
  programId: string | null;
}

export interface GymGoal {
  id: string;
  clientId: string;
  metric: 'WEIGHT_KG';
  targetValue: number;
  startValue: number;
  deadline: string;
  status: 'ACTIVE';
}

export interface GymNotification {
  id: string;
  recipientId: string;
  type: 'BOOKING_CREATED' | 'BOOKING_REMINDER' | 'BOOKING_COMPLETED' | 'PROGRAM_ASSIGNED' | 'ACHIEVEMENT_EARNED';
  title: string;
  message: string;
  read: boolean;
  createdAt: Date;
  bookingId: string | null;
  programId: string | null;
  achievementId: string | null;
}

export interface Gym {
  gymId: string;
  users: GymUser[];
  coaching: GymCoaching[];
  programs: GymProgram[];
  bookings: GymBooking[];
  bodyMetrics: GymBodyMetric[];
  workoutLogs: GymWorkoutLog[];
  achievements: GymAchievement[];
  goals: GymGoal[];
  notifications: GymNotification[];
}

export interface GymOptions {
  trainers: number;
  clients: number;
  bookingsPerClient: number;
  /** The gym's today, 'YYYY-MM-DD'; bookings fall before and after it. */
  today: string;
  seed?: number;
  /** Include the three demo logins (the first trainer and client are the demo ones). */
  demoLogins?: boolean;
  /** Booking slots per trainer per day (hours from 07:00). */
  slotsPerDay?: number;
}

/** The demo gym a new data folder gets: small, with bookings today and this week. */
export function demoGym(today: string): Gym {
  return generateGym({ trainers: 3, clients: 12, bookingsPerClient: 8, today, seed: 42, demoLogins: true, slotsPerDay: 4 });
}

// ---------- generation ----------

const FIRST = [
  'Ava',
  'Liam',
  'Mia',
  'Noah',
  'Zoe',
  'Ethan',
  'Lena',
  'Omar',
  'Iris',
  'Mateo',
  'Sara',
  'Kai',
  'Nora',
  'Felix',
  'Yara',
  'Hugo',
  'Leah',
  'Ravi',
  'Elif',
  'Jonas',
];
const LAST = [
  'Novak',
  'Garcia',
  'Okafor',
  'Larsen',
  'Moreau',
  'Tanaka',
  'Silva',
  'Kowalski',
  'Haddad',
  'Berg',
  'Rossi',
  'Nguyen',
  'Schmidt',
  'Costa',
  'Dubois',
];
const CERTS = ['NASM-CPT', 'ACE CPT', 'Precision Nutrition L1', 'CSCS', 'FMS Level 2', 'Kettlebell Instructor'];
const SPECIALTIES = ['Strength Training', 'Weight Loss', 'Mobility', 'Rehabilitation', 'Endurance', 'Hypertrophy', 'Nutrition'];
const EXERCISES = ['Back Squat', 'Deadlift', 'Bench Press', 'Overhead Press', 'Pull-up', 'Walking Lunge', 'Plank', 'Kettlebell Swing', 'Rowing Machine'];
const PROGRAM_NAMES = ['Foundations', 'Strength Block', 'Lean & Strong', 'Mobility Reset', 'Hypertrophy Phase', 'Endurance Builder'];
const LEVELS: FitnessLevel[] = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED'];

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** UUID v4 layout from the generator, so ids are stable for a seed. */
function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const hhmm = (h: number, m = 0) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The one random source of a gym. Every step below draws from it in a fixed order, so the
 * same seed gives the same gym: a step that draws one number more or less, or runs before
 * another, changes every id after it (`__tests__/generate.test.ts` pins the result).
 */
interface Random {
  next(): number;
  id(): string;
  pick<T>(xs: readonly T[]): T;
  between(lo: number, hi: number): number;
}

function random(seed: number): Random {
  const next = rng(seed);
  return {
    next,
    id: () => uuidFrom(next),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    between: (lo, hi) => lo + next() * (hi - lo),
  };
}

/** What every step of one gym draws from and reads. */
interface Setting {
  r: Random;
  opts: GymOptions;
  /** The instant `n` days before the gym's today, at noon UTC. */
  daysAgo: (n: number) => Date;
}

export function generateGym(opts: GymOptions): Gym {
  const r = random(opts.seed ?? 1);
  const todayNoon = new Date(`${opts.today}T12:00:00Z`);
  const setting: Setting = { r, opts, daysAgo: (n) => new Date(todayNoon.getTime() - n * 86_400_000) };
  const gymId = r.id();
  const { users, trainers, clients } = generatePeople(setting);
  // Trainer by trainer: each one's programs, then its sessions.
  const coaching = [...clientsByTrainer(trainers, clients)].map(([trainer, theirs]) => generateCoaching(setting, gymId, trainer, theirs));
  const programs = coaching.flatMap((y) => y.programs);
  const bookings = coaching.flatMap((y) => y.bookings);
  const workoutLogs = coaching.flatMap((y) => y.workoutLogs);
  const progress = generateProgress(setting, clients, workoutLogs);
  const achievements = [...coaching.flatMap((y) => y.achievements), ...progress.achievements];
  const notifications = generateNotifications(setting, bookings, programs, achievements);
  return {
    gymId,
    users,
    coaching: coachingOf(programs),
    programs,
    bookings,
    bodyMetrics: progress.bodyMetrics,
    workoutLogs,
    achievements,
    goals: progress.goals,
    notifications,
  };
}

// ---------- people ----------

const personName = (i: number) => `${FIRST[i % FIRST.length]} ${LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length]}`;
const gymEmail = (role: string, i: number) => `${role}${i + 1}@gym.fitsync.test`;

/** The admin (with the demo logins), then the trainers, then the clients; the first trainer and client are the demo ones. */
function generatePeople(s: Setting): { users: GymUser[]; trainers: GymUser[]; clients: GymUser[] } {
  const { opts } = s;
  const admin: GymUser[] = opts.demoLogins
    ? [{ id: s.r.id(), email: DEMO_LOGINS.admin, name: 'Alex Admin', role: 'ADMIN', phone: '+1-555-0100', createdAt: s.daysAgo(400) }]
    : [];
  const trainers = Array.from({ length: opts.trainers }, (_, t) => trainer(s, t, Boolean(opts.demoLogins) && t === 0));
  const clients = Array.from({ length: opts.clients }, (_, c) => client(s, c, Boolean(opts.demoLogins) && c === 0));
  return { users: [...admin, ...trainers, ...clients], trainers, clients };
}

/** How the generated accounts of a role look: the demo login of the role, names, phone numbers, when they joined. */
const ACCOUNTS = {
  TRAINER: {
    login: DEMO_LOGINS.trainer,
    demoName: 'Taylor Trainer',
    nameFrom: 3,
    phone: (i: number) => `+1-555-1${String(i).padStart(3, '0')}`,
    joinedDaysAgo: (i: number) => 365 - (i % 30),
  },
  CLIENT: {
    login: DEMO_LOGINS.client,
    demoName: 'Casey Client',
    nameFrom: 11,
    phone: (i: number) => `+1-555-2${String(i).padStart(4, '0')}`,
    joinedDaysAgo: (i: number) => 200 - (i % 100),
  },
} as const;

function account({ r, daysAgo }: Setting, role: keyof typeof ACCOUNTS, i: number, demo: boolean): GymUser {
  const a = ACCOUNTS[role];
  return {
    id: r.id(),
    email: demo ? a.login : gymEmail(role.toLowerCase(), i),
    name: demo ? a.demoName : personName(i + a.nameFrom),
    role,
    phone: a.phone(i),
    createdAt: daysAgo(a.joinedDaysAgo(i)),
  };
}

function trainer(s: Setting, t: number, demo: boolean): GymUser {
  const { r } = s;
  const a = account(s, 'TRAINER', t, demo);
  return {
    ...a,
    approvedAt: a.createdAt,
    trainerProfile: {
      certifications: [r.pick(CERTS), r.pick(CERTS)].filter((c, i, a) => a.indexOf(c) === i),
      specializations: [r.pick(SPECIALTIES), r.pick(SPECIALTIES)].filter((c, i, a) => a.indexOf(c) === i),
      yearsExperience: 1 + Math.floor(r.next() * 15),
      rating: round1(r.between(4, 5)),
      bio: 'Coach focused on sustainable progress and good form.',
    },
  };
}

function client(s: Setting, c: number, demo: boolean): GymUser {
  const { r } = s;
  return {
    ...account(s, 'CLIENT', c, demo),
    clientProfile: {
      fitnessLevel: r.pick(LEVELS),
      healthClearance: r.next() > 0.1,
      emergencyContact: {
        name: personName(c + 5),
        phone: `+1-555-3${String(c).padStart(4, '0')}`,
        relationship: r.pick(['partner', 'parent', 'friend', 'sibling']),
      },
      dateOfBirth: `${1970 + Math.floor(r.next() * 35)}-0${1 + Math.floor(r.next() * 9)}-1${Math.floor(r.next() * 9)}`,
      goalsSummary: r.pick(['Lose weight', 'Build strength', 'Run a half marathon', 'Move without pain']),
    },
  };
}

/** Clients spread evenly over the trainers, in trainer order. */
function clientsByTrainer(trainers: GymUser[], clients: GymUser[]): Map<GymUser, GymUser[]> {
  const byTrainer = new Map<GymUser, GymUser[]>(trainers.map((t) => [t, []]));
  clients.forEach((c, i) => byTrainer.get(trainers[i % trainers.length])!.push(c));
  return byTrainer;
}

// ---------- coaching ----------

/**
 * A uuid (version 5 layout) from a name, so a relationship's id follows from its pair and
 * costs the random sequence nothing: every other id of the gym stays what it was.
 */
function nameUuid(name: string): string {
  const h = createHash('sha1').update(`fitsync-demo:${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Every trainer and client with a program together coach each other: asked by the trainer the day before their first program, accepted that day. */
function coachingOf(programs: GymProgram[]): GymCoaching[] {
  const first = new Map<string, GymProgram>();
  for (const p of programs) {
    const key = `${p.trainerId}:${p.clientId}`;
    const seen = first.get(key);
    if (!seen || p.startDate < seen.startDate) first.set(key, p);
  }
  return [...first.entries()].map(([key, p]) => {
    const day = addDays(p.startDate, -1);
    return {
      id: nameUuid(`coaching:${key}`),
      clientId: p.clientId,
      trainerId: p.trainerId,
      requestedBy: p.trainerId,
      requestedAt: new Date(`${day}T09:00:00Z`),
      acceptedAt: new Date(`${day}T18:00:00Z`),
    };
  });
}

// ---------- programs and sessions ----------

interface Coaching {
  programs: GymProgram[];
  bookings: GymBooking[];
  workoutLogs: GymWorkoutLog[];
  achievements: GymAchievement[];
}

/**
 * One trainer's programs (an active one per client; every third client also completed an
 * earlier one) and sessions. The trainer's clients share its slots, so no trainer (and so
 * no client) is ever booked twice at once; half the days lie before today.
 */
function generateCoaching(s: Setting, gymId: string, trainer: GymUser, clients: GymUser[]): Coaching {
  const slotsPerDay = s.opts.slotsPerDay ?? 12;
  const total = clients.length * s.opts.bookingsPerClient;
  const firstDay = -Math.floor(Math.ceil(total / slotsPerDay) * 0.5);
  const coaching: Coaching = { programs: [], bookings: [], workoutLogs: [], achievements: [] };
  const active = new Map<string, GymProgram>();
  clients.forEach((client, ci) => {
    const program = makeProgram(s, client, trainer, 'ACTIVE', addDays(s.opts.today, Math.min(firstDay, -7) - 7));
    active.set(client.id, program);
    coaching.programs.push(program);
    if (ci % 3 === 0) {
      const done = makeProgram(s, client, trainer, 'COMPLETED', addDays(s.opts.today, Math.min(firstDay, -7) - 70));
      coaching.programs.push(done);
      coaching.achievements.push(completionOf(s.r, done));
    }
  });
  for (let slot = 0; slot < total; slot++) {
    const client = clients[slot % clients.length];
    const program = active.get(client.id)!;
    // Slot n of this trainer: day firstDay + n / slotsPerDay, hour 7 + n % slotsPerDay.
    const day = addDays(s.opts.today, firstDay + Math.floor(slot / slotsPerDay));
    const booking = makeBooking(s, gymId, program, day, 7 + (slot % slotsPerDay));
    coaching.bookings.push(booking);
    if (booking.status === 'COMPLETED') coaching.workoutLogs.push(workoutLogOf(s.r, booking, program));
  }
  return coaching;
}

function makeProgram({ r }: Setting, client: GymUser, trainer: GymUser, status: GymProgram['status'], startDate: string): GymProgram {
  return {
    id: r.id(),
    clientId: client.id,
    trainerId: trainer.id,
    name: `${r.pick(PROGRAM_NAMES)} (${client.name.split(' ')[0]})`,
    description: 'Progressive plan with weekly check-ins.',
    startDate,
    durationWeeks: status === 'ACTIVE' ? 12 : 8,
    status,
    adherenceRate: status === 'COMPLETED' ? round1(r.between(0.7, 1)) : null,
    completedAt: status === 'COMPLETED' ? new Date(`${addDays(startDate, 56)}T18:00:00Z`) : null,
    workoutPlan: {
      id: r.id(),
      name: 'Full body',
      sessionsPerWeek: 2 + Math.floor(r.next() * 3),
      exercises: [0, 1, 2].map(() => ({ name: r.pick(EXERCISES), sets: 3 + Math.floor(r.next() * 2), reps: 6 + Math.floor(r.next() * 7), restSeconds: 90 })),
    },
    dietPlan: {
      id: r.id(),
      name: 'Balanced',
      dailyCalories: 1800 + Math.floor(r.next() * 8) * 100,
      proteinGrams: 120 + Math.floor(r.next() * 60),
      carbsGrams: 180,
      fatGrams: 60,
    },
  };
}

function completionOf(r: Random, program: GymProgram): GymAchievement {
  return {
    id: r.id(),
    clientId: program.clientId,
    type: 'PROGRAM_COMPLETION',
    title: `Completed ${program.name}`,
    description: "You've successfully completed your training program!",
    badgeIcon: 'program_complete.png',
    earnedAt: program.completedAt!,
    programId: program.id,
  };
}

/** A one-hour session from `hour`; past ones mostly held, some cancelled or missed. */
function makeBooking({ r, opts }: Setting, gymId: string, program: GymProgram, day: string, hour: number): GymBooking {
  const past = day < opts.today;
  const roll = r.next();
  const status: GymBooking['status'] = past ? (roll < 0.85 ? 'COMPLETED' : roll < 0.95 ? 'CANCELLED' : 'NO_SHOW') : 'CONFIRMED';
  return {
    id: r.id(),
    clientId: program.clientId,
    trainerId: program.trainerId,
    programId: program.id,
    gymId,
    date: day,
    startTime: hhmm(hour),
    endTime: hhmm(hour + 1),
    type: roll < 0.8 ? 'ONE_ON_ONE' : roll < 0.9 ? 'ASSESSMENT' : 'VIRTUAL',
    status,
    notes: null,
    trainerNotes: status === 'COMPLETED' ? 'Good session, form improving.' : null,
    cancellationReason: status === 'CANCELLED' ? 'Client request' : null,
  };
}

function workoutLogOf(r: Random, booking: GymBooking, program: GymProgram): GymWorkoutLog {
  return {
    id: r.id(),
    clientId: booking.clientId,
    trainerId: booking.trainerId,
    bookingId: booking.id,
    programId: program.id,
    workoutDate: booking.date,
    durationMinutes: 60,
    exercises: program.workoutPlan.exercises.map((e) => ({ name: e.name, sets: e.sets, reps: e.reps, weightKg: round1(r.between(20, 100)) })),
    perceivedEffort: 5 + Math.floor(r.next() * 5),
    notes: null,
  };
}

// ---------- progress ----------

/** Per client: weekly measurements over the last ten weeks, trending down; a weight goal; a badge from three workouts on. */
function generateProgress(s: Setting, clients: GymUser[], workoutLogs: GymWorkoutLog[]) {
  const { r, daysAgo } = s;
  const bodyMetrics: GymBodyMetric[] = [];
  const goals: GymGoal[] = [];
  const achievements: GymAchievement[] = [];
  const logsPerClient = new Map<string, number>();
  for (const l of workoutLogs) logsPerClient.set(l.clientId, (logsPerClient.get(l.clientId) ?? 0) + 1);
  for (const client of clients) {
    const start = r.between(65, 105);
    for (let w = 10; w >= 0; w--) {
      bodyMetrics.push({
        id: r.id(),
        clientId: client.id,
        recordedAt: daysAgo(w * 7 + 1),
        weightKg: round1(start - (10 - w) * r.between(0.1, 0.5)),
        bodyFatPercentage: round1(r.between(15, 32)),
        muscleMassKg: round1(r.between(25, 45)),
        restingHeartRate: 55 + Math.floor(r.next() * 25),
      });
    }
    goals.push({
      id: r.id(),
      clientId: client.id,
      metric: 'WEIGHT_KG',
      targetValue: round1(start - 8),
      startValue: round1(start),
      deadline: addDays(s.opts.today, 90),
      status: 'ACTIVE',
    });
    const logs = logsPerClient.get(client.id) ?? 0;
    if (logs >= 3) {
      achievements.push({
        id: r.id(),
        clientId: client.id,
        type: 'WORKOUT_COUNT',
        title: `${logs} workouts logged`,
        description: 'Consistency beats intensity.',
        badgeIcon: 'workouts.png',
        earnedAt: daysAgo(1),
        programId: null,
      });
    }
  }
  return { bodyMetrics, goals, achievements };
}

// ---------- notifications ----------

/** A few notifications per person, some unread, each pointing at what it concerns. */
function generateNotifications(
  { r, opts, daysAgo }: Setting,
  bookings: GymBooking[],
  programs: GymProgram[],
  achievements: GymAchievement[],
): GymNotification[] {
  const notifications: GymNotification[] = [];
  const none = { bookingId: null, programId: null, achievementId: null };
  const upcoming = bookings.filter((b) => b.date >= opts.today).slice(0, Math.max(4, Math.floor(bookings.length / 10)));
  for (const b of upcoming) {
    const at = `${b.date} at ${b.startTime.slice(0, 5)}`;
    notifications.push(
      {
        id: r.id(),
        recipientId: b.clientId,
        type: 'BOOKING_REMINDER',
        title: 'Session coming up',
        message: `Your session on ${at} is coming up.`,
        read: false,
        createdAt: daysAgo(1),
        ...none,
        bookingId: b.id,
      },
      {
        id: r.id(),
        recipientId: b.trainerId,
        type: 'BOOKING_CREATED',
        title: 'New booking',
        message: `A client booked ${at}.`,
        read: r.next() < 0.5,
        createdAt: daysAgo(2),
        ...none,
        bookingId: b.id,
      },
    );
  }
  for (const p of programs.filter((p) => p.status === 'ACTIVE')) {
    notifications.push({
      id: r.id(),
      recipientId: p.clientId,
      type: 'PROGRAM_ASSIGNED',
      title: 'New program assigned',
      message: `Your trainer assigned you: ${p.name}`,
      read: true,
      createdAt: new Date(`${p.startDate}T09:00:00Z`),
      ...none,
      programId: p.id,
    });
  }
  for (const a of achievements) {
    notifications.push({
      id: r.id(),
      recipientId: a.clientId,
      type: 'ACHIEVEMENT_EARNED',
      title: 'Achievement unlocked',
      message: a.title,
      read: false,
      createdAt: a.earnedAt,
      ...none,
      programId: a.programId,
      achievementId: a.id,
    });
  }
  return notifications;
}
