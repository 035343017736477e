export * from './clock.js';
export * from './prng.js';
export * from './link.js';
export * from './udp-link.js';
export * from './tcp-proxy.js';
export * from './network.js';
