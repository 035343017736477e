export * from './errors.js';
export * from './logger.js';
export * from './config.js';
export * from './checksummed-log.js';
export * from './stop-signal.js';
export * from './clock.js';
export * from './cli-flags.js';
