// Tracing first (when OTEL_* asks for it): the instrumentations must be in place before the
// gateway's modules load http and ioredis.
import { startTelemetry } from '@fitsync/service-kit/telemetry';

await startTelemetry('gateway');
const [{ runService }, { createGateway }] = await Promise.all([import('@fitsync/service-kit'), import('./server.js')]);
runService('gateway', (config) => createGateway(config));
