/** `node services/store/dist/main.js` — serves the embedded engine to the other services. */
import { runServiceMain } from '@floodgate/observability';
import { storeService } from './service.ts';

runServiceMain(storeService);
