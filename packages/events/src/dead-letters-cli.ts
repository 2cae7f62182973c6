import type { DeadLetter } from './dead-letters.js';
import type { EventTransport } from './stream-transport.js';

export const DEAD_LETTERS_USAGE = `usage:
  npm run events -- dead-letters list [--service S]
  npm run events -- dead-letters replay <id...|--all> [--service S]

Reads REDIS_URL and EVENTS_PREFIX like the services. Replaying sends an event back to
the service that gave up on it (only that one), which handles it once (its inbox skips
events it already handled), and removes it from the dead-letter stream.`;

export class UsageError extends Error {}

interface Parsed {
  command: 'list' | 'replay';
  services: string[];
  ids: string[] | 'all';
}

export function parseDeadLetterArgs(argv: readonly string[], allServices: readonly string[]): Parsed {
  const [group, command, ...rest] = argv;
  if (group !== 'dead-letters' || (command !== 'list' && command !== 'replay')) throw new UsageError(DEAD_LETTERS_USAGE);
  let service: string | undefined;
  let all = false;
  const ids: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--service') {
      service = rest[++i];
      if (!service) throw new UsageError('--service needs a service name');
    } else if (arg.startsWith('--service=')) service = arg.slice('--service='.length);
    else if (arg === '--all') all = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}\n\n${DEAD_LETTERS_USAGE}`);
    else ids.push(arg);
  }
  if (service && !allServices.includes(service)) throw new UsageError(`unknown service "${service}" (one of ${allServices.join(', ')})`);
  if (command === 'replay' && !all && !ids.length) throw new UsageError(`replay needs dead-letter ids or --all\n\n${DEAD_LETTERS_USAGE}`);
  if (command === 'list' && (all || ids.length)) throw new UsageError(`list takes only --service\n\n${DEAD_LETTERS_USAGE}`);
  return { command, services: service ? [service] : [...allServices], ids: all ? 'all' : ids };
}

const line = (l: DeadLetter) =>
  `${l.id}  ${l.service}  ${l.channel || '?'}  event_id=${l.event_id ?? '-'}  correlation_id=${l.correlation_id ?? '-'}  attempts=${l.attempts}  failed_at=${l.failed_at}\n    ${l.error}`;

/** Runs `dead-letters list|replay`; returns the process exit code. */
export async function runDeadLetters(
  transport: EventTransport,
  argv: readonly string[],
  allServices: readonly string[],
  out: (s: string) => void,
): Promise<number> {
  const args = parseDeadLetterArgs(argv, allServices);
  if (args.command === 'list') {
    let total = 0;
    for (const service of args.services) {
      const letters = await transport.deadLetters(service);
      total += letters.length;
      for (const l of letters) out(line(l));
    }
    out(`${total} dead letter(s) in ${args.services.join(', ')}`);
    return 0;
  }
  let replayed = 0;
  const found = new Set<string>();
  for (const service of args.services) {
    if (args.ids === 'all') replayed += await transport.replay(service, 'all');
    else {
      const mine = (await transport.deadLetters(service, 100_000)).filter((l) => (args.ids as string[]).includes(l.id)).map((l) => l.id);
      mine.forEach((id) => found.add(id));
      if (mine.length) replayed += await transport.replay(service, mine);
    }
  }
  const missing = args.ids === 'all' ? [] : args.ids.filter((id) => !found.has(id));
  out(`replayed ${replayed} dead letter(s)`);
  if (missing.length) {
    out(`not found: ${missing.join(', ')}`);
    return 1;
  }
  return 0;
}
