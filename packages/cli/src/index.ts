export { main } from './main.js';
export type { Command } from './main.js';
export { startDevCluster, type DevCluster, type DevClusterOptions } from './commands/dev-cluster.js';
