// Wrong: the web console imports relay code instead of talking HTTP and FastPubSub.
import { RELAY } from '../../relay/src/index.js';
export const map = (): string => RELAY;
