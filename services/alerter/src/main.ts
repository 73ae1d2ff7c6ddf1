/** `node services/alerter/dist/main.js` — runs the alerter alone (ALERT_RULES_FILE names the rules). */
import { runServiceMain } from '@floodgate/observability';
import { alerterService } from './service.ts';

runServiceMain(alerterService);
