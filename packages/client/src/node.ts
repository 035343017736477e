// @fastpubsub/client/node — the SDK for Node 20, which has no global WebSocket: the same API,
// with the `ws` package as the WebSocket implementation (unless the app passes its own), plus
// the token REST helpers for servers and tools.
import WebSocket from 'ws';
import { connect as connectBase, type Client, type ConnectOptions, type WebSocketConstructor } from './index.js';

export * from './index.js';
export { createToken, refreshToken, revokeToken, tokenId, type CreateTokenInput, type TenantGrant, type AdminOptions } from './admin.js';

export function connect(options: ConnectOptions): Promise<Client> {
  return connectBase({ webSocketImpl: WebSocket as unknown as WebSocketConstructor, ...options });
}
