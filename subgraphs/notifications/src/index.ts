import { runService } from '@fitsync/service-kit';
import { startNotifications } from './server.js';

runService('notifications', startNotifications);
