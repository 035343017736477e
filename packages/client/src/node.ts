// @fastpubsub/client/node — the SDK for Node 20, which has no global WebSocket: the same API,
// with the `ws` package as the WebSocket implementation (unless the app passes its own), plus
// the token REST helpers for servers and tools.
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { connect as connectBase, type Client, type ConnectOptions, type WebSocketConstructor } from './index.js';

export * from './index.js';
export { createToken, refreshToken, revokeToken, tokenId, type CreateTokenInput, type TenantGrant, type AdminOptions } from './admin.js';

// package.json is one folder up from both src/ and dist/.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Sent on the WebSocket upgrade: relays tell SDK connections from other clients by it. */
export const USER_AGENT = `fastpubsub-js/${version} node/${process.versions.node}`;

/** `ws` with the SDK's User-Agent on every upgrade (browsers set their own and allow no other). */
class NodeWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { headers: { 'user-agent': USER_AGENT } });
  }
}

export function connect(options: ConnectOptions): Promise<Client> {
  return connectBase({ webSocketImpl: NodeWebSocket as unknown as WebSocketConstructor, ...options });
}
