export { main } from './main.js';
export type { Command } from './main.js';
