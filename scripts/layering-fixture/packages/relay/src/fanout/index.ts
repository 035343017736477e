// Wrong: the pure fan-out core imports an edge and does file I/O.
import { readFileSync } from 'node:fs';
import { startEdge } from '../edge/ws/edge.js';
export const fanout = (): string => startEdge() + String(readFileSync.length);
