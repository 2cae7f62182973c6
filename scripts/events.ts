// npm run events -- dead-letters list|replay: the dead-letter streams of every consuming service.
import { DEAD_LETTERS_USAGE, UsageError, createRedisTransport, runDeadLetters } from '@fitsync/events';
import { ConfigError, SUBGRAPHS, loadConfig } from '@fitsync/service-kit';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
    console.log(DEAD_LETTERS_USAGE);
    return argv.length ? 0 : 1;
  }
  const config = loadConfig('gateway');
  if (!config.redisUrl) {
    console.error(
      'REDIS_URL is not set. Without Redis the event bus lives inside `npm start` and its dead letters ' +
        'last only as long as it runs (the services log each one with its error); set REDIS_URL to keep and replay them.',
    );
    return 1;
  }
  const transport = createRedisTransport(config.redisUrl, config.eventsPrefix);
  try {
    return await runDeadLetters(transport, argv, SUBGRAPHS, (s) => console.log(s));
  } finally {
    await transport.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof UsageError || err instanceof ConfigError ? err.message : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
