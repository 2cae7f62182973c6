import { id, text } from '@fitsync/service-kit';
import { z } from 'zod';

const email = z.string().trim().toLowerCase().email('must be an email address').max(254);
const name = text({ min: 1, max: 100 });
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ()-]{6,20}$/, 'must be a phone number');
const tags = z.array(text({ min: 1, max: 80 })).max(20);

const trainerProfile = z.object({
  certifications: tags.optional(),
  specializations: tags.optional(),
  yearsExperience: z.number().int().min(0).max(70).optional(),
  bio: text().nullish(),
});

const clientProfile = z.object({
  fitnessLevel: z.enum(['BEGINNER', 'INTERMEDIATE', 'ADVANCED']).optional(),
  healthClearance: z.boolean().optional(),
  emergencyContact: z.object({ name, phone, relationship: text({ max: 50 }).nullish() }).nullish(),
  dateOfBirth: z.iso.date('must be YYYY-MM-DD').nullish(),
  goalsSummary: text({ max: 500 }).nullish(),
});

export const registerInput = z.object({
  email,
  // Not trimmed: a password is what the user typed.
  password: z.string().min(8, 'must have at least 8 characters').max(200),
  name,
  role: z
    .enum(['CLIENT', 'TRAINER', 'ADMIN'])
    .nullish()
    .refine((r) => r !== 'ADMIN', 'admins cannot register themselves'),
  phone: phone.nullish(),
  trainerProfile: trainerProfile.nullish(),
  clientProfile: clientProfile.nullish(),
});

export const updateProfileInput = z.object({
  userId: id().nullish(),
  name: name.nullish(),
  phone: phone.nullish(),
  avatarUrl: z.string().url('must be a URL').max(500).nullish(),
  trainerProfile: trainerProfile.nullish(),
  clientProfile: clientProfile.nullish(),
});
