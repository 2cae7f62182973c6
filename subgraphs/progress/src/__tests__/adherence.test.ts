import { describe, expect, it } from 'vitest';
import { programAdherence } from '../adherence.js';

describe('programAdherence', () => {
  const program = { startDate: '2026-01-05', endDate: '2026-03-30', plannedSessions: 36 }; // 84 days

  it('plans sessions in proportion to the time elapsed, rounded', () => {
    expect(programAdherence(program, 10, '2026-02-16')).toEqual({ plannedSessions: 18, completedSessions: 10, rate: 10 / 18 });
    expect(programAdherence(program, 0, '2026-01-06').plannedSessions).toBe(0); // 36 * 1/84 rounds to 0
    expect(programAdherence(program, 0, '2026-01-07').plannedSessions).toBe(1);
  });

  it('is 0 before anything is planned and at most 1', () => {
    expect(programAdherence(program, 3, '2025-12-01')).toEqual({ plannedSessions: 0, completedSessions: 3, rate: 0 });
    expect(programAdherence(program, 40, '2026-06-01')).toEqual({ plannedSessions: 36, completedSessions: 40, rate: 1 });
  });

  it('treats a program that starts and ends the same day as fully planned from that day', () => {
    const oneDay = { startDate: '2026-01-05', endDate: '2026-01-05', plannedSessions: 2 };
    expect(programAdherence(oneDay, 1, '2026-01-04').plannedSessions).toBe(0);
    expect(programAdherence(oneDay, 1, '2026-01-05')).toEqual({ plannedSessions: 2, completedSessions: 1, rate: 0.5 });
  });
});
