import { runService } from '@fitsync/service-kit';
import { startUsers } from './server.js';

runService('users', startUsers);
