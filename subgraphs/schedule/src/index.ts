import { runService } from '@fitsync/service-kit';
import { startSchedule } from './server.js';

runService('schedule', startSchedule);
