// A hand-made RFC 6455 client over node:net, for the handshake checks (exact request bytes,
// exact response headers, status codes before the upgrade) where a library would hide details.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

export interface RawUpgradeOptions {
  path?: string;
  /** Sent verbatim as `Sec-WebSocket-Protocol` when given. */
  protocol?: string;
  /** Extra request headers, sent verbatim. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface RawUpgradeResult {
  status: number;
  statusLine: string;
  /** Lower-cased header name → every value received for it. */
  headers: Map<string, string[]>;
  /** The whole response head as received (for "the token is never echoed" checks). */
  rawHead: string;
  /** The Sec-WebSocket-Key we sent. */
  key: string;
  socket: net.Socket;
  /** Bytes received after the head. */
  leftover: Buffer;
}

export function expectedAccept(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/** Opens a TCP connection, sends an upgrade request, and resolves once the response head is read. */
export function rawUpgrade(host: string, port: number, opts: RawUpgradeOptions = {}): Promise<RawUpgradeResult> {
  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET ${opts.path ?? '/ws'} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (opts.protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${opts.protocol}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  const request = lines.join('\r\n') + '\r\n\r\n';
  const timeoutMs = opts.timeoutMs ?? 3000;

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`rawUpgrade: no response head within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.pause();
      const rawHead = buf.subarray(0, end).toString('latin1');
      const [statusLine = '', ...headerLines] = rawHead.split('\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
      if (!m?.[1]) {
        fail(new Error(`rawUpgrade: bad status line ${JSON.stringify(statusLine)}`));
        return;
      }
      const headers = new Map<string, string[]>();
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        headers.set(name, [...(headers.get(name) ?? []), value]);
      }
      socket.on('error', () => undefined);
      resolve({ status: Number(m[1]), statusLine, headers, rawHead, key, socket, leftover: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('connect', () => socket.write(request));
  });
}

/** A masked client frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  let head: Buffer;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([head, mask, masked]);
}

export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Reads unmasked server frames from a socket after a successful rawUpgrade. */
export class RawFrameReader {
  private buf: Buffer;
  private frames: RawFrame[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(private readonly socket: net.Socket, leftover: Buffer) {
    this.buf = Buffer.from(leftover);
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.parse();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    this.parse();
    socket.resume();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length < 2) break;
      const b0 = this.buf[0] ?? 0;
      const b1 = this.buf[1] ?? 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (b1 & 0x80) off += 4; // servers must not mask, but do not choke on it
      if (this.buf.length < off + len) break;
      this.frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: Buffer.from(this.buf.subarray(off, off + len)) });
      this.buf = this.buf.subarray(off + len);
    }
    if (this.frames.length > 0) this.wake();
  }

  async next(timeoutMs: number): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.ended) throw new Error('raw socket closed before a frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
