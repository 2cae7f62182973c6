// Tracing first (when OTEL_* asks for it): the instrumentations must be in place before the
// service's modules load http, pg and ioredis.
import { startTelemetry } from '@fitsync/service-kit/telemetry';

await startTelemetry('notifications');
const [{ runService }, { startNotifications }] = await Promise.all([import('@fitsync/service-kit'), import('./server.js')]);
runService('notifications', startNotifications);
