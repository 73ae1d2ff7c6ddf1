/** `node services/ingest/dist/main.js` — runs ingest alone (a ClickHouse server, or it owns the embedded engine). */
import { runServiceMain } from '@floodgate/observability';
import { ingestService } from './service.ts';

runServiceMain(ingestService);
