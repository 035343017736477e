// `fastpubsub usage export`: one month's per-tenant usage from the control plane, as CSV or
// JSON on stdout (or --out FILE), for billing. The control plane's export is idempotent, so
// this can be re-run for a month at any time and gives the same file.
import { writeFile } from 'node:fs/promises';
import { FlagError, parseFlags } from '@fastpubsub/core';
import { UsageError, requiredFlagOrEnv } from '../args.js';

const USAGE = `Usage: fastpubsub usage export --url CONTROL_URL --token TOKEN --month YYYY-MM [options]

Exports one month's usage per tenant (messages, bytes, connection minutes: the counts the
monthly quota is enforced on) from the control plane, sorted by tenant.

Options:
  --url URL          control plane URL, e.g. https://10.0.0.1:7800 (or env FASTPUBSUB_CONTROL_URL)
  --token TOKEN      operator token (every tenant), or a tenant master token with --tenant
                     (or env FASTPUBSUB_CONTROL_TOKEN)
  --month YYYY-MM    the month (UTC)
  --format F         csv (default) | json
  --tenant T         only this tenant (required with a tenant master token)
  --out FILE         write to FILE instead of stdout
  -h, --help         show this help

A private CA for the control plane's HTTPS: NODE_EXTRA_CA_CERTS=ca.pem.
Exit codes: 0 done, 1 request failed (HTTP error, unreachable), 2 usage error.
`;

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'export') throw new UsageError(`unknown subcommand '${sub}' (export)`);
  const { values: v } = parseFlags({
    args: rest,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      month: { type: 'string' },
      format: { type: 'string' },
      tenant: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const url = requiredFlagOrEnv(v.url, 'url', 'FASTPUBSUB_CONTROL_URL');
  const token = requiredFlagOrEnv(v.token, 'token', 'FASTPUBSUB_CONTROL_TOKEN');
  if (v.month === undefined || !/^\d{4}-(0[1-9]|1[0-2])$/.test(v.month)) throw new UsageError(`--month must be YYYY-MM, got ${v.month ?? 'nothing'}`);
  const format = v.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got ${format}`);
  const path = v.tenant === undefined ? '/v1/usage/export' : `/v1/tenants/${encodeURIComponent(v.tenant)}/usage/export`;
  const target = `${url.replace(/\/$/, '')}${path}?month=${v.month}&format=${format}`;
  let res: Response;
  try {
    res = await fetch(target, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    process.stderr.write(`fastpubsub usage: ${url} unreachable: ${cause ?? (err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`fastpubsub usage: ${res.status} ${text.trim()}\n`);
    return 1;
  }
  if (v.out === undefined) process.stdout.write(text);
  else await writeFile(v.out, text);
  return 0;
}

export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: "export one month's per-tenant usage (CSV or JSON) from the control plane",
  async run(argv) {
    try {
      return await run(argv);
    } catch (err) {
      process.stderr.write(`fastpubsub usage: ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof UsageError || err instanceof FlagError) {
        process.stderr.write("Run 'fastpubsub usage --help' for usage.\n");
        return 2;
      }
      return 1;
    }
  },
};
