// `fastpubsub pub`: publishes a message (repeated --count times, paced by --rate) or every line
// of stdin, with progress on stderr for long runs and a summary at the end.
import { createInterface } from 'node:readline';
import { connect, isClientError, publishHttp, type Client, type ClientError, type DeliveryMode } from '@fastpubsub/client/node';
import { UsageError, requiredFlagOrEnv, positiveNumber } from '../args.js';
import { parseFlags } from '@fastpubsub/core';

const USAGE = `Usage: fastpubsub pub --url URL --token AT [options] TENANT CHANNEL MESSAGE|-

Publishes MESSAGE to CHANNEL in TENANT; with '-', publishes every line of stdin.

Options:
  --url URL         edge URL, e.g. http://127.0.0.1:7700 (or env FASTPUBSUB_URL)
  --token AT        access token AT_… (or env FASTPUBSUB_TOKEN)
  --count N         publish MESSAGE N times (default 1)
  --rate R          at most R messages per second (default: as fast as possible)
  --delivery MODE   broadcast (default) | one-low-latency | one-random
  --http            publish over HTTPS (POST /v1/publish/TENANT/CHANNEL), one request
                    per message, instead of a WebSocket connection (broadcast only)
  --idempotency-key K  with --http: the same key within 60 s publishes once, mesh-wide
  -q, --quiet       no progress or summary on stderr
  -h, --help        show this help

Exit codes: 0 done, 1 connection or server error, 2 usage error.
`;

const DELIVERIES: DeliveryMode[] = ['broadcast', 'one-low-latency', 'one-random'];
const HIGH_WATER = 1 << 20; // wait for the socket to drain above 1 MiB buffered
// A refused publish comes back as an ERR line after the frame was written; flush() only says
// the bytes left, so the command listens this long for a refusal before it reports success.
const REFUSAL_WAIT_MS = 300;


interface PubArgs {
  url: string;
  token: string;
  tenant: string;
  channel: string;
  message: string;
  count: number;
  rate: number | undefined;
  delivery: DeliveryMode;
  quiet: boolean;
  http: boolean;
  idempotencyKey: string | undefined;
}


function parse(argv: string[], env: NodeJS.ProcessEnv): PubArgs | 'help' {
  const parsed = parseFlags(
    { args: argv, allowPositionals: true, strict: true, options: {
      url: { type: 'string' },
      token: { type: 'string' },
      count: { type: 'string' },
      rate: { type: 'string' },
      delivery: { type: 'string' },
      http: { type: 'boolean' },
      'idempotency-key': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    } },
  );
  const { values: v, positionals } = parsed;
  if (v.help) return 'help';
  const url = requiredFlagOrEnv(v.url, 'url', 'FASTPUBSUB_URL', env);
  const token = requiredFlagOrEnv(v.token, 'token', 'FASTPUBSUB_TOKEN', env);
  if (positionals.length !== 3) throw new UsageError(`expected TENANT CHANNEL MESSAGE|-, got ${positionals.length} argument(s)`);
  const [tenant, channel, message] = positionals as [string, string, string];
  const delivery = (v.delivery ?? 'broadcast') as DeliveryMode;
  if (!DELIVERIES.includes(delivery)) throw new UsageError(`--delivery must be one of ${DELIVERIES.join(', ')}`);
  const count = positiveNumber('count', v.count, true) ?? 1;
  if (message === '-' && v.count !== undefined) throw new UsageError("--count does not apply to stdin ('-')");
  const http = v.http === true;
  const idempotencyKey = v['idempotency-key'];
  if (!http && idempotencyKey !== undefined) throw new UsageError('--idempotency-key needs --http');
  if (http && delivery !== 'broadcast') throw new UsageError('--http publishes broadcast only');
  return { url, token, tenant, channel, message, count, rate: positiveNumber('rate', v.rate, false), delivery, quiet: v.quiet === true, http, idempotencyKey };
}

/** Where the Pacer's messages go: an open client, or one HTTPS request each. */
type Sender = { kind: 'ws'; client: Client } | { kind: 'http' };

class Pacer {
  private readonly start = performance.now();
  sent = 0;
  private lastProgress = this.start;

  constructor(
    private readonly sender: Sender,
    private readonly a: PubArgs,
    private readonly total: number | undefined,
  ) {}

  async send(payload: string): Promise<void> {
    if (this.a.rate !== undefined) {
      const due = this.start + (this.sent / this.a.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    if (this.sender.kind === 'http') {
      const { id } = await publishHttp(this.a.tenant, this.a.channel, payload, {
        url: this.a.url,
        token: this.a.token,
        ...(this.a.idempotencyKey === undefined ? {} : { idempotencyKey: this.a.idempotencyKey }),
      });
      if (this.a.quiet !== true && this.total === 1) process.stderr.write(`pub: accepted, id ${id}\n`);
      this.sent++;
      return;
    }
    const client = this.sender.client;
    client.publish(this.a.tenant, this.a.channel, payload, { delivery: this.a.delivery });
    this.sent++;
    if (this.sent % 1024 === 0) {
      await new Promise((r) => setImmediate(r)); // let the socket write
      while (client.stats.queued === 0 && client.state === 'connected' && client.bufferedAmount > HIGH_WATER) {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const now = performance.now();
    if (!this.a.quiet && now - this.lastProgress >= 1000) {
      this.lastProgress = now;
      const of = this.total === undefined ? '' : `/${this.total}`;
      process.stderr.write(`pub: ${this.sent}${of} published, ${Math.round(this.sent / ((now - this.start) / 1000))} msg/s\n`);
    }
  }

  summary(): string {
    const s = (performance.now() - this.start) / 1000;
    return `pub: published ${this.sent} message${this.sent === 1 ? '' : 's'} to ${this.a.tenant}:${this.a.channel} in ${s.toFixed(2)} s (${Math.round(this.sent / Math.max(s, 1e-3))} msg/s)\n`;
  }
}

async function run(a: PubArgs): Promise<number> {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  let client: Client | undefined;
  try {
    if (!a.http) client = await connect({ endpoint: a.url, token: a.token, signal: ac.signal, ping: false });
    const refusals: ClientError[] = [];
    client?.on('error', (e) => {
      if (e.code === 'server') refusals.push(e);
    });
    const sender: Sender = client === undefined ? { kind: 'http' } : { kind: 'ws', client };
    const pacer = new Pacer(sender, a, a.message === '-' ? undefined : a.count);
    if (a.message === '-') {
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        if (ac.signal.aborted) break;
        await pacer.send(line);
      }
    } else {
      for (let i = 0; i < a.count && !ac.signal.aborted; i++) await pacer.send(a.message);
    }
    if (client !== undefined) {
      await client.flush({ signal: AbortSignal.timeout(10_000) });
      await new Promise((r) => setTimeout(r, REFUSAL_WAIT_MS));
    }
    if (refusals.length > 0) {
      const first = refusals[0]!;
      const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more refusal${refusals.length === 2 ? '' : 's'})` : '';
      process.stderr.write(`fastpubsub pub: the relay refused the publish: ${first.serverCode ?? 'error'}${first.detail === undefined ? '' : ` (${first.detail})`}${more}${hint(first.serverCode)}\n`);
      return 1;
    }
    if (!a.quiet) process.stderr.write(pacer.summary());
    return 0;
  } catch (err) {
    process.stderr.write(`fastpubsub pub: ${describe(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    await client?.close();
  }
}

function hint(serverCode: string | undefined): string {
  if (serverCode === 'permission_denied') return '; the token does not allow publishing to this tenant/channel';
  if (serverCode === 'token_expired' || serverCode === 'token_revoked') return '; mint a new token (--token)';
  return '';
}

export function describe(err: unknown): string {
  if (isClientError(err)) return `${err.message}${err.code === 'unauthorized' ? ' (check --token)' : ''}`;
  return err instanceof Error ? err.message : String(err);
}

// Structurally main.ts's Command (importing it would be an import cycle; see relay.ts).
export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'publish a message, N copies or stdin lines',
  async run(argv) {
    let a: PubArgs | 'help';
    try {
      a = parse(argv, process.env);
    } catch (err) {
      process.stderr.write(`fastpubsub pub: ${err instanceof Error ? err.message : String(err)}\nRun 'fastpubsub pub --help' for usage.\n`);
      return 2;
    }
    if (a === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    return run(a);
  },
};
