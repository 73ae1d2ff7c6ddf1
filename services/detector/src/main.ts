/** `node services/detector/dist/main.js` — runs the detector alone. */
import { runServiceMain } from '@floodgate/observability';
import { detectorService } from './service.ts';

runServiceMain(detectorService);
