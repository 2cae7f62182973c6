import { z } from 'zod';

const email = z.string().trim().toLowerCase().email('email must be an email address').max(254);
const name = z.string().trim().min(1, 'name must not be empty').max(100);
const phone = z.string().trim().regex(/^\+?[0-9 ()-]{6,20}$/, 'phone must be a phone number');

const trainerProfile = z.object({
  certifications: z.array(z.string().trim().min(1).max(80)).max(20).optional(),
  specializations: z.array(z.string().trim().min(1).max(80)).max(20).optional(),
  yearsExperience: z.number().int().min(0).max(70).optional(),
  bio: z.string().max(2000).nullish(),
});

const clientProfile = z.object({
  fitnessLevel: z.enum(['BEGINNER', 'INTERMEDIATE', 'ADVANCED']).optional(),
  healthClearance: z.boolean().optional(),
  emergencyContact: z.object({ name, phone, relationship: z.string().max(50).nullish() }).nullish(),
  dateOfBirth: z.iso.date('dateOfBirth must be YYYY-MM-DD').nullish(),
  goalsSummary: z.string().max(500).nullish(),
});

export const registerInput = z.object({
  email,
  password: z.string().min(8, 'password must have at least 8 characters').max(200),
  name,
  role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']).nullish().refine((r) => r !== 'ADMIN', 'admins cannot register themselves'),
  phone: phone.nullish(),
  trainerProfile: trainerProfile.nullish(),
  clientProfile: clientProfile.nullish(),
});

export const updateProfileInput = z.object({
  userId: z.string().nullish(),
  name: name.nullish(),
  phone: phone.nullish(),
  avatarUrl: z.string().url('avatarUrl must be a URL').max(500).nullish(),
  trainerProfile: trainerProfile.nullish(),
  clientProfile: clientProfile.nullish(),
});
