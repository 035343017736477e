// Wrong: the control plane imports the relay.
import { RELAY } from '../../relay/src/index.js';
export const control = (): string => RELAY;
