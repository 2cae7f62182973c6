import { runService } from '@fitsync/service-kit';
import { startTraining } from './server.js';

runService('training', startTraining);
