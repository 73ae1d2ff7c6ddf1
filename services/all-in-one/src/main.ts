/** `node services/all-in-one/dist/main.js` — ingest, detector and (with ALERT_RULES_FILE) the alerter in one process. */
import { runServiceMain } from '@floodgate/observability';
import { allInOneService } from './service.ts';

runServiceMain(allInOneService);
