export { ADMIN_FILE, type AllInOneHandle, startAllInOne } from './all-in-one.ts';
export { type AllInOneConfig, allInOneService, loadAllInOneConfig } from './service.ts';
