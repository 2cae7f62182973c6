/**
 * One deterministic gym, generated from a seed and a date, that each subgraph
 * seeds its own slice of (users their accounts, schedule its bookings, ...).
 * The same options give the same ids everywhere, so references across subgraphs
 * line up without any service calling another.
 */
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

const FIRST = ['Ava', 'Liam', 'Mia', 'Noah', 'Zoe', 'Ethan', 'Lena', 'Omar', 'Iris', 'Mateo', 'Sara', 'Kai', 'Nora', 'Felix', 'Yara', 'Hugo', 'Leah', 'Ravi', 'Elif', 'Jonas'];
const LAST = ['Novak', 'Garcia', 'Okafor', 'Larsen', 'Moreau', 'Tanaka', 'Silva', 'Kowalski', 'Haddad', 'Berg', 'Rossi', 'Nguyen', 'Schmidt', 'Costa', 'Dubois'];
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

export function generateGym(opts: GymOptions): Gym {
  const next = rng(opts.seed ?? 1);
  const id = () => uuidFrom(next);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const between = (lo: number, hi: number) => lo + next() * (hi - lo);
  const slotsPerDay = opts.slotsPerDay ?? 12;
  const todayMidnight = new Date(`${opts.today}T12:00:00Z`);
  const daysAgo = (n: number) => new Date(todayMidnight.getTime() - n * 86_400_000);
  const gymId = id();

  const users: GymUser[] = [];
  const personName = (i: number) => `${FIRST[i % FIRST.length]} ${LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length]}`;
  const email = (role: string, i: number) => `${role}${i + 1}@gym.fitsync.test`;

  if (opts.demoLogins) {
    users.push({ id: id(), email: DEMO_LOGINS.admin, name: 'Alex Admin', role: 'ADMIN', phone: '+1-555-0100', createdAt: daysAgo(400) });
  }
  const trainers: GymUser[] = [];
  for (let t = 0; t < opts.trainers; t++) {
    const demo = opts.demoLogins && t === 0;
    trainers.push({
      id: id(),
      email: demo ? DEMO_LOGINS.trainer : email('trainer', t),
      name: demo ? 'Taylor Trainer' : personName(t + 3),
      role: 'TRAINER',
      phone: `+1-555-1${String(t).padStart(3, '0')}`,
      createdAt: daysAgo(365 - (t % 30)),
      trainerProfile: {
        certifications: [pick(CERTS), pick(CERTS)].filter((c, i, a) => a.indexOf(c) === i),
        specializations: [pick(SPECIALTIES), pick(SPECIALTIES)].filter((c, i, a) => a.indexOf(c) === i),
        yearsExperience: 1 + Math.floor(next() * 15),
        rating: round1(between(4, 5)),
        bio: 'Coach focused on sustainable progress and good form.',
      },
    });
  }
  const clients: GymUser[] = [];
  for (let c = 0; c < opts.clients; c++) {
    const demo = opts.demoLogins && c === 0;
    clients.push({
      id: id(),
      email: demo ? DEMO_LOGINS.client : email('client', c),
      name: demo ? 'Casey Client' : personName(c + 11),
      role: 'CLIENT',
      phone: `+1-555-2${String(c).padStart(4, '0')}`,
      createdAt: daysAgo(200 - (c % 100)),
      clientProfile: {
        fitnessLevel: pick(LEVELS),
        healthClearance: next() > 0.1,
        emergencyContact: { name: personName(c + 5), phone: `+1-555-3${String(c).padStart(4, '0')}`, relationship: pick(['partner', 'parent', 'friend', 'sibling']) },
        dateOfBirth: `${1970 + Math.floor(next() * 35)}-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)}`,
        goalsSummary: pick(['Lose weight', 'Build strength', 'Run a half marathon', 'Move without pain']),
      },
    });
  }
  users.push(...trainers, ...clients);

  const programs: GymProgram[] = [];
  const bookings: GymBooking[] = [];
  const bodyMetrics: GymBodyMetric[] = [];
  const workoutLogs: GymWorkoutLog[] = [];
  const achievements: GymAchievement[] = [];
  const goals: GymGoal[] = [];
  const notifications: GymNotification[] = [];

  const makeProgram = (client: GymUser, trainer: GymUser, status: GymProgram['status'], startDate: string): GymProgram => ({
    id: id(),
    clientId: client.id,
    trainerId: trainer.id,
    name: `${pick(PROGRAM_NAMES)} (${client.name.split(' ')[0]})`,
    description: 'Progressive plan with weekly check-ins.',
    startDate,
    durationWeeks: status === 'ACTIVE' ? 12 : 8,
    status,
    adherenceRate: status === 'COMPLETED' ? round1(between(0.7, 1)) : null,
    completedAt: status === 'COMPLETED' ? new Date(`${addDays(startDate, 56)}T18:00:00Z`) : null,
    workoutPlan: {
      id: id(),
      name: 'Full body',
      sessionsPerWeek: 2 + Math.floor(next() * 3),
      exercises: [0, 1, 2].map(() => ({ name: pick(EXERCISES), sets: 3 + Math.floor(next() * 2), reps: 6 + Math.floor(next() * 7), restSeconds: 90 })),
    },
    dietPlan: { id: id(), name: 'Balanced', dailyCalories: 1800 + Math.floor(next() * 8) * 100, proteinGrams: 120 + Math.floor(next() * 60), carbsGrams: 180, fatGrams: 60 },
  });

  // Clients are spread evenly over trainers; each trainer's clients share its slots,
  // so no trainer (and so no client) is ever booked twice at once.
  const clientsOf = new Map<string, GymUser[]>(trainers.map((t) => [t.id, []]));
  clients.forEach((c, i) => clientsOf.get(trainers[i % trainers.length].id)!.push(c));

  for (const trainer of trainers) {
    const mine = clientsOf.get(trainer.id)!;
    const total = mine.length * opts.bookingsPerClient;
    const days = Math.ceil(total / slotsPerDay);
    const firstDay = -Math.floor(days * 0.5);
    const active = new Map<string, GymProgram>();
    mine.forEach((client, ci) => {
      const program = makeProgram(client, trainer, 'ACTIVE', addDays(opts.today, Math.min(firstDay, -7) - 7));
      active.set(client.id, program);
      programs.push(program);
      if (ci % 3 === 0) {
        const done = makeProgram(client, trainer, 'COMPLETED', addDays(opts.today, Math.min(firstDay, -7) - 70));
        programs.push(done);
        achievements.push({
          id: id(),
          clientId: client.id,
          type: 'PROGRAM_COMPLETION',
          title: `Completed ${done.name}`,
          description: "You've successfully completed your training program!",
          badgeIcon: 'program_complete.png',
          earnedAt: done.completedAt!,
          programId: done.id,
        });
      }
    });
    for (let s = 0; s < total; s++) {
      const client = mine[s % mine.length];
      const program = active.get(client.id)!;
      // Slot s of this trainer: day firstDay + s / slotsPerDay, hour 7 + s % slotsPerDay.
      const slot = s % slotsPerDay;
      const day = addDays(opts.today, firstDay + Math.floor(s / slotsPerDay));
      const past = day < opts.today;
      const roll = next();
      const status: GymBooking['status'] = past ? (roll < 0.85 ? 'COMPLETED' : roll < 0.95 ? 'CANCELLED' : 'NO_SHOW') : 'CONFIRMED';
      const hour = 7 + slot;
      const booking: GymBooking = {
        id: id(),
        clientId: client.id,
        trainerId: trainer.id,
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
      bookings.push(booking);
      if (status === 'COMPLETED') {
        workoutLogs.push({
          id: id(),
          clientId: client.id,
          trainerId: trainer.id,
          bookingId: booking.id,
          programId: program.id,
          workoutDate: day,
          durationMinutes: 60,
          exercises: program.workoutPlan.exercises.map((e) => ({ name: e.name, sets: e.sets, reps: e.reps, weightKg: round1(between(20, 100)) })),
          perceivedEffort: 5 + Math.floor(next() * 5),
          notes: null,
        });
      }
    }
  }

  const logsPerClient = new Map<string, number>();
  for (const l of workoutLogs) logsPerClient.set(l.clientId, (logsPerClient.get(l.clientId) ?? 0) + 1);
  for (const client of clients) {
    // Weekly measurements over the last ten weeks, trending down.
    const start = between(65, 105);
    for (let w = 10; w >= 0; w--) {
      bodyMetrics.push({
        id: id(),
        clientId: client.id,
        recordedAt: daysAgo(w * 7 + 1),
        weightKg: round1(start - (10 - w) * between(0.1, 0.5)),
        bodyFatPercentage: round1(between(15, 32)),
        muscleMassKg: round1(between(25, 45)),
        restingHeartRate: 55 + Math.floor(next() * 25),
      });
    }
    goals.push({ id: id(), clientId: client.id, metric: 'WEIGHT_KG', targetValue: round1(start - 8), startValue: round1(start), deadline: addDays(opts.today, 90), status: 'ACTIVE' });
    const logs = logsPerClient.get(client.id) ?? 0;
    if (logs >= 3) {
      achievements.push({
        id: id(),
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

  // A few notifications per person, some unread, each pointing at what it concerns.
  const upcoming = bookings.filter((b) => b.date >= opts.today).slice(0, Math.max(4, Math.floor(bookings.length / 10)));
  for (const b of upcoming) {
    notifications.push(
      { id: id(), recipientId: b.clientId, type: 'BOOKING_REMINDER', title: 'Session coming up', message: `Your session on ${b.date} at ${b.startTime.slice(0, 5)} is coming up.`, read: false, createdAt: daysAgo(1), bookingId: b.id, programId: null, achievementId: null },
      { id: id(), recipientId: b.trainerId, type: 'BOOKING_CREATED', title: 'New booking', message: `A client booked ${b.date} at ${b.startTime.slice(0, 5)}.`, read: next() < 0.5, createdAt: daysAgo(2), bookingId: b.id, programId: null, achievementId: null },
    );
  }
  for (const p of programs.filter((p) => p.status === 'ACTIVE')) {
    notifications.push({ id: id(), recipientId: p.clientId, type: 'PROGRAM_ASSIGNED', title: 'New program assigned', message: `Your trainer assigned you: ${p.name}`, read: true, createdAt: new Date(`${p.startDate}T09:00:00Z`), bookingId: null, programId: p.id, achievementId: null });
  }
  for (const a of achievements) {
    notifications.push({ id: id(), recipientId: a.clientId, type: 'ACHIEVEMENT_EARNED', title: 'Achievement unlocked', message: a.title, read: false, createdAt: a.earnedAt, bookingId: null, programId: a.programId, achievementId: a.id });
  }

  return { gymId, users, programs, bookings, bodyMetrics, workoutLogs, achievements, goals, notifications };
}
