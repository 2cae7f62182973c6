import { runService } from '@fitsync/service-kit';
import { startProgress } from './server.js';

runService('progress', startProgress);
