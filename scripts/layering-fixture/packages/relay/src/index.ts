import { VERSION } from '../../core/src/index.js';
export { startEdge } from './edge/ws/edge.js';
export const RELAY = `relay ${VERSION}`;
