// The contract's WebTransport (contract v0.1 §11.2–§11.6), for SDK clients with the
// `webtransport` feature: CONNECT at `/` or `/wt` with `Authorization: Bearer <AT>` (any case),
// then one client-opened bidirectional stream of `u8 kind | u32 length | bytes` frames (kind 1
// text: SUB/UNSUB and the OK/ERR answers; kind 0 binary: publishes and deliveries). A plain
// SUB is delivered on the bidi, as on WebSocket; `:U:…` and `:D…` subscriptions on one
// server-opened unidirectional "line" (`u32 length | payload`, the first payload the label
// `U:1`), which the SDK reads in its own task, free of §11.3's partial-frame hazard. `:D` is
// served on the line (§11.5: that SDK never reads datagrams). A delivery matching both kinds
// goes on the bidi, once (its frame lists every matching pattern). Publishes
// that fail are dropped and counted, never answered with `ERR:` (§11.6: an `ERR:` ends every
// queue of the client's session). A refused SUB is answered `OK:SUB` then `OK:UNSUB` (form a).
import type { QuicConnection, QuicStream } from '@fastpubsub/quic';
import { ErrorCode, type Logger } from '@fastpubsub/core';
import { decodePublish, encodeDeliveryHead, encodeDeliveryTail, formatOk, isWireError, validatePattern, validateTenant } from '@fastpubsub/wire';
import { patternsKey, type Dispatcher, type Encodings } from '../../delivery/index.js';
import type { RelayMetrics } from '../../metrics.js';
import type { EdgeTicket, TicketVerifier } from '../../auth/edge-ticket.js';
import type { DispatchMessage } from '../../delivery/types.js';
import { ByteRateLimiter } from '../../limits/index.js';


/** §11.3: the largest frame payload either side may send. */
export const CONTRACT_WT_MAX_FRAME = 65536;
const KIND_BINARY = 0;
const KIND_TEXT = 1;
/** What may wait on the line before deliveries are dropped (slow consumer, drop policy). */
const LINE_QUEUE_BYTES = 4 * 1024 * 1024;

export interface ContractWtContext {
  readonly dispatcher: Dispatcher;
  readonly metrics: RelayMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly maxPayloadBytes: number;
  readonly maxSubscriptions: number;
}

export class ContractWtSession {
  readonly edge = 'quic' as const;
  readonly #ctx: ContractWtContext;
  readonly #conn: QuicConnection;
  readonly ticket: EdgeTicket;
  #bidi: QuicStream | undefined;
  #line: QuicStream | undefined;
  #inbound: Buffer = Buffer.alloc(0);
  /** `tenant\0pattern` of the subscriptions delivered on the line. */
  readonly #onLine = new Set<string>();
  /** §11.4 per-subscription caps (`:U:{line}:{kbps}`, `:D:{kbps}`), and the token's egress rate. */
  readonly #caps = new Map<string, ByteRateLimiter>();
  readonly #egress: ByteRateLimiter;
  #closed = false;

  constructor(ctx: ContractWtContext, conn: QuicConnection, ticket: EdgeTicket) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.ticket = ticket;
    this.#egress = new ByteRateLimiter(ticket.egressBytesPerSec, performance.now());
    conn.on('stream', (s) => this.#onStream(s));
    conn.on('close', () => this.dispose());
  }

  /** A WebTransport session is its own deliver-one unit. */
  get connection(): object {
    return this;
  }

  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.dispatcher.removeSink(this);
    this.ticket.release?.();
  }

  /** §11.6: on WebTransport `RECONNECT` ends the session, so it is sent only in place of a close. */
  reconnect(): void {
    if (this.#closed) return;
    this.#sendText('RECONNECT');
    this.dispose();
    setTimeout(() => this.#conn.close(0x3, ErrorCode.ShuttingDown), 50).unref();
  }

  close(code: number, reason: string): void {
    this.dispose();
    this.#conn.close(code, reason);
  }

  #onStream(s: QuicStream): void {
    if (this.#bidi === undefined && s.direction === 'bidi') {
      this.#bidi = s;
      s.on('data', (chunk: Buffer) => this.#onData(chunk));
      s.on('end', () => this.close(0, 'bidi finished'));
      s.on('reset', () => this.close(0, 'bidi reset'));
      return;
    }
    s.stopSending(0x11);
    if (s.writable) s.reset(0x11);
  }

  #onData(chunk: Buffer): void {
    this.#inbound = this.#inbound.length === 0 ? chunk : Buffer.concat([this.#inbound, chunk]);
    while (this.#inbound.length >= 5 && !this.#closed) {
      const kind = this.#inbound[0] as number;
      const len = this.#inbound.readUInt32BE(1);
      // §11.3: another kind or an oversize length is a protocol error: close the session.
      if ((kind !== KIND_TEXT && kind !== KIND_BINARY) || len > CONTRACT_WT_MAX_FRAME) {
        this.#ctx.metrics.error(ErrorCode.BadFrame);
        return this.close(0x4, ErrorCode.BadFrame);
      }
      if (this.#inbound.length < 5 + len) return;
      const body = this.#inbound.subarray(5, 5 + len);
      this.#inbound = this.#inbound.subarray(5 + len);
      if (kind === KIND_TEXT) this.#onText(body.toString('utf8').trim());
      else this.#onPublish(Buffer.from(body));
    }
  }

  #sendText(text: string): void {
    const body = Buffer.from(text, 'utf8');
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = KIND_TEXT;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    if (this.#bidi?.writable === true) this.#bidi.write(frame);
  }

  #onText(text: string): void {
    const [verb, tenant = '', pattern = '', suffix, line, cap] = text.split(':');
    if (verb === 'SUB') return this.#onSub(tenant, pattern, suffix, line, cap);
    if (verb === 'UNSUB') {
      this.#ctx.dispatcher.unsubscribe(tenant, pattern, this);
      this.#onLine.delete(`${tenant}\0${pattern}`);
      return this.#sendText(formatOk('UNSUB', tenant, pattern));
    }
    this.#ctx.metrics.error(ErrorCode.BadFrame); // other text: ignored, like the client does
  }

  /** §11.4: OK:SUB, with `:U:{line}` for a `U` request; refusals answer OK:SUB then OK:UNSUB. */
  #onSub(tenant: string, pattern: string, suffix: string | undefined, line: string | undefined, cap: string | undefined): void {
    const refusal = this.#refusal(tenant, pattern);
    const ok = formatOk('SUB', tenant, pattern);
    if (refusal !== undefined) {
      this.#ctx.metrics.error(refusal);
      this.#sendText(ok);
      return this.#sendText(formatOk('UNSUB', tenant, pattern));
    }
    this.#ctx.dispatcher.subscribe(tenant, pattern, this);
    const key = `${tenant}\0${pattern}`;
    if (suffix === 'U' || suffix === 'D') this.#onLine.add(key);
    else this.#onLine.delete(key);
    // A repeated SUB replaces the options; the cap is the suffix's last number (0: none asked).
    const kbps = Number((suffix === 'U' ? cap : suffix === 'D' ? line : undefined) ?? '');
    if (Number.isInteger(kbps) && kbps > 0) this.#caps.set(key, new ByteRateLimiter(kbps * 1024, performance.now()));
    else this.#caps.delete(key);
    // Line deliveries all travel on line 1; a named line 1–8 is echoed as asked.
    const asked = Number(line);
    const named = suffix === 'U' && Number.isInteger(asked) && asked >= 1 && asked <= 8 ? asked : 1;
    this.#sendText(suffix === 'U' ? `${ok}:U:${named}` : ok);
  }

  #refusal(tenant: string, pattern: string): string | undefined {
    try {
      validateTenant(tenant);
      validatePattern(pattern);
    } catch (err) {
      if (isWireError(err)) return err.code;
      throw err;
    }
    if (this.ticket.isExpired(this.#ctx.now())) return ErrorCode.TokenExpired;
    if (!this.ticket.canSubscribe(tenant, pattern)) return ErrorCode.PermissionDenied;
    const d = this.#ctx.dispatcher;
    if (!d.has(tenant, pattern, this) && d.countFor(this) >= this.#ctx.maxSubscriptions) return ErrorCode.TooManySubscriptions;
    return undefined;
  }

  /** §11.6: a failing publish is dropped and counted, never answered. */
  #onPublish(data: Buffer): void {
    const ctx = this.#ctx;
    let pub;
    try {
      pub = decodePublish(data);
    } catch (err) {
      if (!isWireError(err)) throw err;
      return ctx.metrics.error(err.code);
    }
    if (pub.payload.byteLength > ctx.maxPayloadBytes) return ctx.metrics.error(ErrorCode.PayloadTooLarge);
    if (this.ticket.isExpired(ctx.now())) return ctx.metrics.error(ErrorCode.TokenExpired);
    if (!this.ticket.canPublish(pub.tenant, pub.channel)) return ctx.metrics.error(ErrorCode.PermissionDenied);
    ctx.dispatcher.publish({ tenant: pub.tenant, channel: pub.channel, payload: pub.payload, mode: pub.mode, arrivedAtMs: performance.now(), origin: 'quic' });
  }

  /** Sink: one delivery frame (contract §3) on the line; over 64 KiB or a full line: dropped and counted. */
  deliver(msg: DispatchMessage, patterns: readonly string[], encodings: Encodings): number {
    if (this.#closed) return 0;
    const bidi = patterns.some((p) => !this.#onLine.has(`${msg.tenant}\0${p}`));
    // Bidi: `u8 0 | u32 length | delivery`; line: `u32 length | delivery`.
    const prefix = bidi ? 5 : 4;
    const frame = encodings.get(bidi ? 'wt-bidi' : 'wt-line', patternsKey(patterns), () => {
      const head = encodeDeliveryHead(msg.tenant, msg.channel, msg.payload);
      const tail = encodeDeliveryTail(patterns);
      const out = Buffer.allocUnsafe(prefix + head.byteLength + tail.byteLength);
      if (bidi) out[0] = KIND_BINARY;
      out.writeUInt32BE(head.byteLength + tail.byteLength, prefix - 4);
      out.set(head, prefix);
      out.set(tail, prefix + head.byteLength);
      return out;
    });
    if (frame.byteLength - prefix > CONTRACT_WT_MAX_FRAME) {
      this.#ctx.metrics.error(ErrorCode.PayloadTooLarge);
      return 0;
    }
    // Over a cap: dropped, never queued (§11.4). Capped only when every matching subscription is.
    const now = performance.now();
    const caps = patterns.map((p) => this.#caps.get(`${msg.tenant}\0${p}`));
    const overCap = caps.every((c) => c !== undefined) && !caps.every((c) => c?.admit(frame.byteLength, now));
    if (overCap || !this.#egress.admit(frame.byteLength, now)) {
      this.#ctx.metrics.dropped('rate_limited');
      return 0;
    }
    const line = bidi ? this.#bidi : this.#openLine();
    if (line === undefined || !line.writable) return 0;
    if (line.writableLength > LINE_QUEUE_BYTES) {
      this.#ctx.metrics.dropped('slow_consumer');
      return 0;
    }
    line.write(frame);
    return frame.byteLength;
  }

  #openLine(): QuicStream {
    if (this.#line === undefined || this.#line.closed) {
      const line = this.#conn.openUniStream();
      const label = Buffer.from('U:1');
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(label.length, 0);
      line.write(Buffer.concat([head, label]));
      this.#line = line;
    }
    return this.#line;
  }
}

/**
 * §11.2: checks the CONNECT's `Authorization: Bearer <AT>` and answers it — 401 for a missing
 * or refused token, 403 when `allow_protocols` (or IP, region) excludes it, else 200 and the
 * session. Resolves with the session, or undefined when refused.
 */
export async function acceptContractSession(
  c: QuicConnection,
  headers: Readonly<Record<string, string>>,
  verifier: TicketVerifier,
  region: string,
  ctx: ContractWtContext,
): Promise<ContractWtSession | undefined> {
  const m = /^bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  let ticket: EdgeTicket;
  try {
    ticket = await verifier.verify(m?.[1], { ip: c.remoteAddress.host, region });
  } catch (err) {
    const code = (err as { code?: string }).code ?? ErrorCode.Unauthorized;
    ctx.metrics.error(code);
    c.respondSession(code === ErrorCode.Forbidden ? 403 : code === ErrorCode.RateLimited ? 429 : 401);
    return undefined;
  }
  if (c.isClosed) {
    ticket.release?.();
    return undefined;
  }
  if (!ticket.allowsProtocol('webtransport')) {
    ticket.release?.();
    ctx.metrics.error(ErrorCode.Forbidden);
    c.respondSession(403);
    return undefined;
  }
  c.respondSession(200);
  return new ContractWtSession(ctx, c, ticket);
}
