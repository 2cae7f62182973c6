import { readFileSync } from 'node:fs';

/** The named operations clients send, read from operations/ as they are shipped. */
export const operation = (name: 'ClientDashboard' | 'TrainerDashboard') => readFileSync(new URL(`../../operations/${name}.graphql`, import.meta.url), 'utf8');
