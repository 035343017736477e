export { ControlClient, type ControlClientOptions, type RegisteredPop, type TokenOp } from './client.js';
