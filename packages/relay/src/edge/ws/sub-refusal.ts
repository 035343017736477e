// Refusing a WebSocket SUB (contract §11.8). The SDK keeps every subscription it ever sent and,
// on a reconnect, switches to the new connection only once each one has an OK:SUB on it. A
// refusal answered with ERR alone therefore leaves such a client unable to ever reconnect. So
// every refusal, whatever its reason (grants, invalid names, limits, an expired token, rate
// limits, an internal failure), is answered the same way: `ERR:{code}:SUB:{t}:{p}` first, so
// the app gets an error event naming the subscription, then an inert `OK:SUB:{t}:{p}` that
// registers nothing, so nothing is ever delivered for it. Every SUB refusal goes through here.
import { formatErr, formatOk } from '@fastpubsub/wire';

export interface SubRefusalTarget {
  /** Queues one text frame to the client, in order with everything else it is sent. */
  sendText(text: string): void;
}

/** The detail of a SUB refusal's ERR: the request it answers, byte-identical. */
export function subRefusalDetail(tenant: string, pattern: string): string {
  return `SUB:${tenant}:${pattern}`;
}

/** Sends `ERR:{code}:SUB:{t}:{p}` then the inert `OK:SUB:{t}:{p}`; the caller registers nothing. */
export function refuseSubscription(target: SubRefusalTarget, code: string, tenant: string, pattern: string): void {
  target.sendText(formatErr(code, subRefusalDetail(tenant, pattern)));
  target.sendText(formatOk('SUB', tenant, pattern));
}
