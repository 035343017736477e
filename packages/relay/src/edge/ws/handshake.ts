// Admission before the WebSocket upgrade (contract §2): the token comes from
// `Authorization: Bearer AT_…` or the `at.` entry of Sec-WebSocket-Protocol, the client must
// offer `llps.v1`, and every refusal is a plain HTTP response written to the raw socket
// (never an accepted-then-closed WebSocket, which would make the SDK retry every second).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export const SUBPROTOCOL = 'llps.v1';
const TOKEN_PROTOCOL_PREFIX = 'at.';
const WS_PATHS = new Set(['/', '/ws']);

/** Sec-WebSocket-Protocol entries, split on ',' and trimmed (`llps.v1, at.X` is accepted). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The access token, from the Authorization header first (as the docs do), else the subprotocol. */
export function extractToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  for (const p of offeredProtocols(req)) {
    if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

export function isWebSocketPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?', 1)[0] ?? '/';
  return WS_PATHS.has(path);
}

/** Writes a JSON error response on a socket that was never upgraded, then closes it. */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string, retryAfterSeconds?: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: code, message });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      (retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`) +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}
