// The mesh protocol over WebSocket on TLS (TCP), for edge agents whose network drops UDP. One
// WebSocket carries what a QUIC connection carries for a MeshLink: streams (control and
// message streams), datagrams (probes) and a close with a code. Each WebSocket message is one
// record: [kind u8][stream id u32][bytes]. Both sides authenticate with the mesh PKI (mutual
// TLS, as on QUIC). WsMeshConnection is a MeshConnection (conn.ts), as a QUIC connection is;
// its RTT comes from WebSocket pings, its liveness counter from every record received.
import { EventEmitter } from 'node:events';
import type { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import type { MeshConnection, MeshStream } from './conn.js';

const Kind = { OPEN_BIDI: 1, OPEN_UNI: 2, DATA: 3, DATAGRAM: 4, CLOSE: 5 } as const;
/** Above this many buffered bytes a stream write says "wait for drain". */
const HIGH_WATER = 4 * 1024 * 1024;
const PING_MS = 100;

export interface WsCloseInfo {
  how: 'local' | 'remote' | 'lost';
  code: number | undefined;
  reason: string;
}

export class WsMeshStream extends EventEmitter implements MeshStream {
  readonly direction: 'bidi' | 'uni';
  readonly #conn: WsMeshConnection;
  readonly #id: number;
  #paused = false;
  readonly #held: Buffer[] = [];

  constructor(conn: WsMeshConnection, id: number, direction: 'bidi' | 'uni') {
    super();
    this.#conn = conn;
    this.#id = id;
    this.direction = direction;
    // As a QUIC stream: nothing is read (so nothing is lost) before a 'data' listener exists.
    this.on('newListener', (event: string) => {
      if (event === 'data') queueMicrotask(() => this.#flush());
    });
  }

  write(chunk: Uint8Array): boolean {
    return this.#conn.sendRecord(Kind.DATA, this.#id, chunk);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  stopSending(): void {
    // Nothing to stop on a WebSocket record stream: further data is ignored by the reader.
  }

  /** Bytes from the peer for this stream. */
  receive(bytes: Buffer): void {
    this.#held.push(bytes);
    this.#flush();
  }

  #flush(): void {
    while (!this.#paused && this.listenerCount('data') > 0 && this.#held.length > 0) this.emit('data', this.#held.shift()!);
  }
}

export class WsMeshConnection extends EventEmitter implements MeshConnection {
  readonly peerX509: X509Certificate | undefined;
  readonly remoteAddress: { host: string; port: number };
  readonly #ws: WebSocket;
  readonly #streams = new Map<number, WsMeshStream>();
  #nextId: number;
  #closed = false;
  #rttMs: number | undefined;
  #pingSentAt = 0;
  #received = 0;
  #blocked = false;
  readonly #pinger: NodeJS.Timeout;

  /** `dialer`: this side opened the WebSocket (its streams get odd ids, the acceptor's even). */
  constructor(ws: WebSocket, socket: TLSSocket, dialer: boolean) {
    super();
    this.#ws = ws;
    this.#nextId = dialer ? 1 : 2;
    const cert = socket.getPeerX509Certificate();
    this.peerX509 = cert;
    this.remoteAddress = { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => this.#onRecord(data));
    ws.on('pong', () => {
      this.#received++;
      const sample = performance.now() - this.#pingSentAt;
      this.#rttMs = this.#rttMs === undefined ? sample : this.#rttMs + 0.125 * (sample - this.#rttMs);
    });
    ws.on('close', (code: number, reason: Buffer) => this.#finish({ how: 'remote', code, reason: reason.toString('utf8') }));
    ws.on('error', () => this.#finish({ how: 'lost', code: undefined, reason: 'socket error' }));
    this.#pinger = setInterval(() => {
      if (this.#ws.readyState !== WebSocket.OPEN) return;
      this.#pingSentAt = performance.now();
      this.#ws.ping();
    }, PING_MS);
  }

  stats(): { rttMs: number; udpDatagramsReceived: number } | undefined {
    if (this.#closed) return undefined;
    return { rttMs: this.#rttMs ?? 0, udpDatagramsReceived: this.#received };
  }

  openBidiStream(): WsMeshStream {
    return this.#open(Kind.OPEN_BIDI, 'bidi');
  }

  openUniStream(): WsMeshStream {
    return this.#open(Kind.OPEN_UNI, 'uni');
  }

  sendDatagram(data: Uint8Array): void {
    this.sendRecord(Kind.DATAGRAM, 0, data);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    const r = Buffer.from(reason.slice(0, 100), 'utf8');
    const body = Buffer.alloc(4 + r.length);
    body.writeUInt32BE(code >>> 0, 0);
    r.copy(body, 4);
    this.sendRecord(Kind.CLOSE, 0, body);
    this.#ws.close(1000);
    this.#finish({ how: 'local', code, reason });
  }

  /** Sends one record; false when the socket's buffer is above the high-water mark ('drain' follows). */
  sendRecord(kind: number, id: number, bytes: Uint8Array): boolean {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return false;
    const head = Buffer.alloc(5);
    head.writeUInt8(kind, 0);
    head.writeUInt32BE(id, 1);
    this.#ws.send(Buffer.concat([head, bytes]), { binary: true }, () => this.#maybeDrain());
    const ok = this.#ws.bufferedAmount < HIGH_WATER;
    if (!ok) this.#blocked = true;
    return ok;
  }

  #maybeDrain(): void {
    if (!this.#blocked || this.#ws.bufferedAmount >= HIGH_WATER / 2) return;
    this.#blocked = false;
    for (const s of this.#streams.values()) s.emit('drain');
  }

  #open(kind: number, direction: 'bidi' | 'uni'): WsMeshStream {
    if (this.#closed) throw new Error('connection closed');
    const id = this.#nextId;
    this.#nextId += 2;
    const s = new WsMeshStream(this, id, direction);
    this.#streams.set(id, s);
    this.sendRecord(kind, id, new Uint8Array(0));
    return s;
  }

  #onRecord(data: Buffer): void {
    this.#received++;
    if (data.length < 5) return;
    const kind = data.readUInt8(0);
    const id = data.readUInt32BE(1);
    const body = data.subarray(5);
    if (kind === Kind.OPEN_BIDI || kind === Kind.OPEN_UNI) {
      if (this.#streams.has(id)) return;
      const s = new WsMeshStream(this, id, kind === Kind.OPEN_BIDI ? 'bidi' : 'uni');
      this.#streams.set(id, s);
      this.emit('stream', s);
    } else if (kind === Kind.DATA) {
      this.#streams.get(id)?.receive(body);
    } else if (kind === Kind.DATAGRAM) {
      this.emit('datagram', body);
    } else if (kind === Kind.CLOSE && body.length >= 4) {
      this.#finish({ how: 'remote', code: body.readUInt32BE(0), reason: body.subarray(4).toString('utf8') });
      this.#ws.close(1000);
    }
  }

  #finish(info: WsCloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pinger);
    for (const s of this.#streams.values()) s.emit('close');
    this.#streams.clear();
    this.emit('close', info);
  }
}

/** Path of the mesh's WebSocket endpoint on a PoP's TCP mesh port. */
export const MESH_WS_PATH = '/fastpubsub-mesh/1';

export interface MeshTlsCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Serves the mesh over WebSocket on TLS at host:port (TCP), requiring a client certificate from
 * the mesh CA. Each accepted WebSocket is handed to `onConnection`; refused TLS handshakes to
 * `onRefused`. Resolves once listening; rejects when the port cannot be bound.
 */
export async function listenMeshWs(
  host: string,
  port: number,
  c: MeshTlsCredentials,
  onConnection: (conn: WsMeshConnection) => void,
  onRefused: (reason: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpsServer({ cert: c.certPem, key: c.keyPem, ca: c.caPem, requestCert: true, rejectUnauthorized: true });
  server.on('tlsClientError', (err) => onRefused(err.message));
  const wss = new WebSocketServer({ server, path: MESH_WS_PATH, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  wss.on('connection', (ws, req) => onConnection(new WsMeshConnection(ws, req.socket as TLSSocket, false)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Dials a PoP's mesh WebSocket (TLS with our certificate, the PoP's checked against the CA). */
export function dialMeshWs(host: string, port: number, c: MeshTlsCredentials, serverName: string, timeoutMs: number): Promise<WsMeshConnection> {
  return new Promise((resolve, reject) => {
    const h = host.includes(':') ? `[${host}]` : host;
    const tlsOptions: ConnectionOptions = {
      cert: c.certPem,
      key: c.keyPem,
      ca: c.caPem,
      // The chain is checked against the mesh CA by TLS; the name every relay certificate carries
      // is checked here (the URL holds an address, not that name).
      checkServerIdentity: (_host, cert) =>
        (cert.subjectaltname ?? '').split(', ').includes(`DNS:${serverName}`) ? undefined : new Error(`the PoP's certificate does not name ${serverName}`),
    };
    // ws hands TLS options through to tls.connect; its own typing of checkServerIdentity differs.
    const ws = new WebSocket(`wss://${h}:${port}${MESH_WS_PATH}`, {
      ...tlsOptions,
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      maxPayload: 4 * 1024 * 1024,
    });
    let socket: TLSSocket | undefined;
    ws.once('upgrade', (res) => {
      socket = res.socket as TLSSocket;
    });
    ws.once('open', () => {
      if (socket === undefined) {
        ws.terminate();
        reject(new Error('no TLS socket'));
        return;
      }
      resolve(new WsMeshConnection(ws, socket, true));
    });
    ws.once('error', (err) => {
      ws.terminate();
      reject(err);
    });
  });
}
