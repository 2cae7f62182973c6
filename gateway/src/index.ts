import { runService } from '@fitsync/service-kit';
import { createGateway } from './server.js';

runService('gateway', (config) => createGateway(config));
