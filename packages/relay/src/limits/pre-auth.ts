// Bounds on what a peer without a token can hold on the HTTP/WebSocket port: every accepted
// TCP (or TLS) connection is "pre-auth" until its first request or upgrade arrives. Pre-auth
// connections are capped in total (beyond the cap the OLDEST one is cut, so a flood of silent
// sockets cannot keep a fresh /ping or a real client out), per client IP (all connections of
// the IP, pre-auth or not), and in time (handshakeTimeoutMs to send a request). A hard ceiling
// derived from the process's descriptor limit keeps `fdReserve` descriptors free for the
// endpoints, files and mesh links whatever happens.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface PreAuthLimits {
  maxPreAuthConnections: number;
  maxConnectionsPerIp: number;
  handshakeTimeoutMs: number;
  fdReserve: number;
}

/** Why a connection was cut before its request (bounded label set for metrics). */
export type PreAuthRefusal = 'per_ip' | 'pre_auth_evicted' | 'handshake_timeout' | 'descriptors';

interface Tracked {
  readonly socket: Socket;
  readonly ip: string;
  timer: NodeJS.Timeout | undefined;
}

export class PreAuthGate {
  readonly #limits: PreAuthLimits;
  /** Insertion order = age: the first entry is the oldest pre-auth connection. */
  readonly #pending = new Map<string, Tracked>();
  readonly #perIp = new Map<string, number>();
  readonly #refused: Record<PreAuthRefusal, number> = { per_ip: 0, pre_auth_evicted: 0, handshake_timeout: 0, descriptors: 0 };
  readonly #maxSockets: number;
  #open = 0;

  readonly #onRefused: (why: PreAuthRefusal) => void;

  constructor(limits: PreAuthLimits, onRefused: (why: PreAuthRefusal) => void = () => undefined, descriptorLimit = processDescriptorLimit()) {
    this.#limits = limits;
    this.#onRefused = onRefused;
    this.#maxSockets = descriptorLimit === undefined ? Number.POSITIVE_INFINITY : Math.max(16, descriptorLimit - limits.fdReserve);
  }

  get refused(): Readonly<Record<PreAuthRefusal, number>> {
    return this.#refused;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get openCount(): number {
    return this.#open;
  }

  /** Hooks the server: counts every TCP connection and clears it from pre-auth at its first request. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
    const seen = (req: { socket: Socket }): void => this.#authenticating(req.socket);
    server.on('request', seen);
    server.on('upgrade', seen);
    // Node's own header/request timers are a backstop behind ours (checked every second).
    server.headersTimeout = this.#limits.handshakeTimeoutMs + 1000;
    server.requestTimeout = Math.max(server.headersTimeout + 1000, 10_000);
  }

  #onConnection(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    const key = socketKey(socket);
    if (this.#open >= this.#maxSockets) return this.#cut(socket, 'descriptors');
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxConnectionsPerIp) return this.#cut(socket, 'per_ip');
    this.#open++;
    this.#perIp.set(ip, fromIp + 1);
    socket.once('close', () => {
      this.#open--;
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(ip);
      else this.#perIp.set(ip, n);
      this.#forget(key);
    });
    if (this.#pending.size >= this.#limits.maxPreAuthConnections) {
      const oldest = this.#pending.values().next().value;
      if (oldest !== undefined) {
        this.#forget(socketKey(oldest.socket));
        this.#cut(oldest.socket, 'pre_auth_evicted');
      }
    }
    const t: Tracked = { socket, ip, timer: undefined };
    t.timer = setTimeout(() => {
      if (this.#pending.get(key) !== t) return;
      this.#forget(key);
      this.#cut(socket, 'handshake_timeout');
    }, this.#limits.handshakeTimeoutMs);
    t.timer.unref();
    this.#pending.set(key, t);
  }

  /** A request or upgrade arrived: the connection leaves the pre-auth pool (auth runs next). */
  #authenticating(socket: Socket): void {
    this.#forget(socketKey(socket));
  }

  #forget(key: string): void {
    const t = this.#pending.get(key);
    if (t === undefined) return;
    clearTimeout(t.timer);
    this.#pending.delete(key);
  }

  #cut(socket: Socket, why: PreAuthRefusal): void {
    this.#refused[why]++;
    this.#onRefused(why);
    socket.destroy();
  }
}

/** The raw TCP socket and the TLS socket on top of it share the peer address and port. */
function socketKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

/** RLIMIT_NOFILE (soft) on Linux; undefined where /proc is not available. */
export function processDescriptorLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number.parseInt(soft, 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
