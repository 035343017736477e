// A simulated-clients connection of bench:presence: one WebSocket holding many members with
// `PRESENCE:JOIN:… {"clientId":…,"add":true}` (docs/presence.md), paced under the relay's
// per-connection JOIN limit (burst 50, then 20/s), starting each batch of joins at the steady rate. Every JOIN gets exactly one answer, in
// order, so a refused one (rate_limited) is known and sent again after a pause.
import WebSocket from 'ws';

const BURST = 45;
const PER_SECOND = 19;
/**
 * Tokens a gateway starts a batch of joins with: a steady ramp (all gateways together join at
 * ~19/s each) rather than every gateway spending its burst in the same instant.
 */
const START_TOKENS = 3;

export class Gateway {
  readonly ws: WebSocket;
  readonly #tenant: string;
  /** Joins waiting to be sent: [channel, clientId]. */
  readonly #todo: Array<[string, string]> = [];
  /** Sent, answer pending, in order. */
  readonly #inFlight: Array<[string, string]> = [];
  #tokens = BURST;
  #timer: NodeJS.Timeout | undefined;
  ok = 0;
  refused = 0;
  #idle: Array<() => void> = [];

  private constructor(ws: WebSocket, tenant: string) {
    this.ws = ws;
    this.#tenant = tenant;
    ws.on('message', (d: WebSocket.RawData, binary: boolean) => {
      if (binary) return;
      const text = (d as Buffer).toString();
      if (!text.startsWith('OK:PRESENCE:JOIN:') && !(text.startsWith('ERR:') && text.includes(':PRESENCE:JOIN:'))) return;
      const job = this.#inFlight.shift();
      if (job === undefined) return;
      if (text.startsWith('OK:')) this.ok++;
      else {
        this.refused++;
        this.#todo.push(job); // sent again when tokens are back
      }
      this.#checkIdle();
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string, token: string, tenant: string): Promise<Gateway> {
    const ws = new WebSocket(url, ['llps.v1', `at.${token}`], { perMessageDeflate: false, handshakeTimeout: 10_000 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Gateway(ws, tenant);
  }

  /** Queues joins; they go out at the paced rate. */
  join(channel: string, clientId: string): void {
    if (this.#timer === undefined) this.#tokens = Math.min(this.#tokens, START_TOKENS);
    this.#todo.push([channel, clientId]);
    this.#pump();
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        this.#tokens = Math.min(BURST, this.#tokens + PER_SECOND / 10);
        this.#pump();
      }, 100);
    }
  }

  /** Resolves once every queued join is answered OK (bounded by `ms`). */
  idle(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`gateway not idle after ${ms} ms: ${this.#todo.length} queued, ${this.#inFlight.length} in flight`)), ms);
      this.#idle.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.#checkIdle();
    });
  }

  close(): void {
    clearInterval(this.#timer);
    this.ws.terminate();
  }

  #pump(): void {
    while (this.#tokens >= 1 && this.#todo.length > 0) {
      const job = this.#todo.shift()!;
      this.#tokens--;
      this.#inFlight.push(job);
      this.ws.send(`PRESENCE:JOIN:${this.#tenant}:${job[0]} {"clientId":"${job[1]}","add":true}`);
    }
  }

  #checkIdle(): void {
    if (this.#todo.length > 0 || this.#inFlight.length > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }
}
