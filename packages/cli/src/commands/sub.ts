// `fastpubsub sub`: subscribes and prints every message, as text lines or JSON lines.
import { connect, isClientError, type Client, type Message } from '@fastpubsub/client/node';
import { UsageError, requiredFlagOrEnv } from '../args.js';
import { parseFlags } from '@fastpubsub/core';

const USAGE = `Usage: fastpubsub sub --url URL --token AT [options] TENANT PATTERN

Subscribes to PATTERN (e.g. 'chat.#', 'a.*.c', or a plain channel) in TENANT and prints each
message as 'CHANNEL PAYLOAD' (payload as UTF-8 text; base64: prefix when it is not text).
Reconnects automatically; stops with exit 1 when the relay rejects the token (revoked or
expired: reconnecting cannot help). Ctrl-C stops and prints a summary on stderr.

Options:
  --url URL       edge URL, e.g. http://127.0.0.1:7700 (or env FASTPUBSUB_URL)
  --token AT      access token AT_… (or env FASTPUBSUB_TOKEN)
  --json          one JSON object per line: {"tenant","channel","pattern","payload"} (or
                  "payload_base64" instead of "payload" when the bytes are not UTF-8)
  --count N       exit 0 after N messages
  -q, --quiet     no status lines on stderr
  -h, --help      show this help

Exit codes: 0 done (--count reached or Ctrl-C), 1 connection or server error, 2 usage error.
`;


interface SubArgs {
  url: string;
  token: string;
  tenant: string;
  pattern: string;
  json: boolean;
  count: number | undefined;
  quiet: boolean;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): SubArgs | 'help' {
  const parsed = parseFlags(
    { args: argv, allowPositionals: true, strict: true, options: {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      count: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    } },
  );
  const { values: v, positionals } = parsed;
  if (v.help) return 'help';
  const url = requiredFlagOrEnv(v.url, 'url', 'FASTPUBSUB_URL', env);
  const token = requiredFlagOrEnv(v.token, 'token', 'FASTPUBSUB_TOKEN', env);
  if (positionals.length !== 2) throw new UsageError(`expected TENANT PATTERN, got ${positionals.length} argument(s)`);
  let count: number | undefined;
  if (v.count !== undefined) {
    count = Number(v.count);
    if (!Number.isInteger(count) || count <= 0) throw new UsageError(`--count must be a positive integer, got '${v.count}'`);
  }
  const [tenant, pattern] = positionals as [string, string];
  return { url, token, tenant, pattern, json: v.json === true, count, quiet: v.quiet === true };
}

const strict = new TextDecoder('utf-8', { fatal: true });

function asText(payload: Uint8Array): string | undefined {
  try {
    return strict.decode(payload);
  } catch {
    return undefined;
  }
}

export function formatMessage(m: Message, json: boolean): string {
  const textPayload = asText(m.payload);
  if (json) {
    const body = textPayload === undefined ? { payload_base64: Buffer.from(m.payload).toString('base64') } : { payload: textPayload };
    return `${JSON.stringify({ tenant: m.tenant, channel: m.channel, pattern: m.pattern, ...body })}\n`;
  }
  return `${m.channel} ${textPayload ?? `base64:${Buffer.from(m.payload).toString('base64')}`}\n`;
}

async function run(a: SubArgs): Promise<number> {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const status = (line: string): void => {
    if (!a.quiet) process.stderr.write(`sub: ${line}\n`);
  };
  let client: Client | undefined;
  let received = 0;
  let rejected: Error | undefined; // the token was refused on reconnect: stop instead of retrying
  let subscribed = false; // a 401 after this is a revoked or expired token, not a wrong --token
  try {
    client = await connect({ endpoint: a.url, token: a.token, signal: ac.signal });
    client.on('reconnecting', (e) => {
      if (isClientError(e.error) && e.error.code === 'unauthorized') {
        rejected = e.error;
        ac.abort();
      }
    });
    client.on('state', (e) => {
      if (e.state === 'reconnecting') status('connection lost, reconnecting…');
    });
    client.on('connected', (e) => {
      if (e.migration) status(`reconnected to ${e.edge.httpUrl}`);
    });
    client.on('error', (e) => status(`edge error: ${e.message}`));
    const sub = await client.subscribe(a.tenant, a.pattern, { signal: ac.signal });
    subscribed = true;
    status(`subscribed to ${a.tenant}:${a.pattern} on ${client.edge?.httpUrl ?? a.url}`);
    const end = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    const iterator = sub[Symbol.asyncIterator]();
    while (a.count === undefined || received < a.count) {
      const next = await Promise.race([iterator.next(), end.then(() => undefined)]);
      if (next === undefined || next.done === true) break;
      received++;
      if (!process.stdout.write(formatMessage(next.value, a.json))) {
        await new Promise((r) => process.stdout.once('drain', r));
      }
    }
    if (rejected !== undefined) return tokenRejected(rejected, received);
    const ended = await Promise.race([sub.closed(), Promise.resolve(null)]);
    // A token refused on reconnect (revoked or expired, no way to get another) ends the client.
    if (isClientError(ended) && ended.code === 'unauthorized') return tokenRejected(ended, received);
    if (ended instanceof Error) throw ended;
    status(`received ${received} message${received === 1 ? '' : 's'}`);
    return 0;
  } catch (err) {
    if (rejected !== undefined) return tokenRejected(rejected, received);
    if (subscribed && isClientError(err) && err.code === 'unauthorized') return tokenRejected(err, received);
    if (ac.signal.aborted) {
      status(`received ${received} message${received === 1 ? '' : 's'}`);
      return 0;
    }
    process.stderr.write(`fastpubsub sub: ${isClientError(err) && err.code === 'unauthorized' ? `${err.message} (check --token)` : err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client?.close();
  }
}

function tokenRejected(error: Error, received: number): number {
  process.stderr.write(
    `fastpubsub sub: the relay no longer accepts the token (${error.message}): it was revoked or has expired; ` +
      `stopping after ${received} message${received === 1 ? '' : 's'}. Mint a new token and run sub again.\n`,
  );
  return 1;
}

// Structurally main.ts's Command (importing it would be an import cycle; see relay.ts).
export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'subscribe and print messages (--json for JSON lines)',
  async run(argv) {
    let a: SubArgs | 'help';
    try {
      a = parse(argv, process.env);
    } catch (err) {
      process.stderr.write(`fastpubsub sub: ${err instanceof Error ? err.message : String(err)}\nRun 'fastpubsub sub --help' for usage.\n`);
      return 2;
    }
    if (a === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    return run(a);
  },
};
