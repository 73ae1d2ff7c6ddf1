export { type AllInOneHandle, startAllInOne } from './all-in-one.ts';
