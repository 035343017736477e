// `fastpubsub token create|refresh|revoke`: the token REST calls (contract v0.1 §7) with the
// master token.
import { createToken, isClientError, refreshToken, revokeToken, tokenId } from '@fastpubsub/client/node';
import { UsageError, requiredFlagOrEnv } from '../args.js';
import { parseFlags } from '@fastpubsub/core';

const USAGE = `Usage: fastpubsub token <create|refresh|revoke> --url URL --master-token MT [options]

  create   --tenant T [--tenant T2 …] --pub RULE… --sub RULE… [--ttl 1h]
           Issues an access token and prints it (AT_…). RULE is an exact channel, a prefix
           tree 'x.#', or '#'; repeat the flag or separate rules with commas.
           Also: --created-by NAME (default fastpubsub-cli), --description TEXT,
           --allow-ip CIDR, --allow-region R, --allow-origin ORIGIN (repeatable), --json.
  refresh  (--token AT | --token-id ID) [--ttl 1h]
           Sets a new expiry (now + ttl) and prints it.
  revoke   --token AT
           Revokes the token; live connections using it are closed.

Common options:
  --url URL            edge URL, e.g. http://127.0.0.1:7700 (or env FASTPUBSUB_URL)
  --master-token MT    master token (or env FASTPUBSUB_MASTER_TOKEN)
  --ttl DURATION       lifetime: 90s, 30m, 1h, 1d… (default 1h, at most 24h)
  -h, --help           show this help

Exit codes: 0 done, 1 request failed (HTTP error, unreachable), 2 usage error.
`;


const MAX_TTL_MS = 24 * 3600 * 1000;

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (m === null) throw new UsageError(`invalid duration '${s}' (e.g. 90s, 30m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new UsageError(`--ttl must be positive, got '${s}'`);
  if (ms > MAX_TTL_MS) throw new UsageError(`--ttl ${s} is more than 24h (contract limit)`);
  return ms;
}

const list = (values: string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'create' && sub !== 'refresh' && sub !== 'revoke') throw new UsageError(`unknown subcommand '${sub}' (create, refresh or revoke)`);
  const parsed = parseFlags(
    { args: rest, allowPositionals: false, strict: true, options: {
      url: { type: 'string' },
      'master-token': { type: 'string' },
      tenant: { type: 'string', multiple: true },
      pub: { type: 'string', multiple: true },
      sub: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      'created-by': { type: 'string' },
      description: { type: 'string' },
      'allow-ip': { type: 'string', multiple: true },
      'allow-region': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      token: { type: 'string' },
      'token-id': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    } },
  );
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const url = requiredFlagOrEnv(v.url, 'url', 'FASTPUBSUB_URL');
  const masterToken = requiredFlagOrEnv(v['master-token'], 'master-token', 'FASTPUBSUB_MASTER_TOKEN');
  const ttlMs = parseDuration(v.ttl ?? '1h');
  const admin = { url, masterToken };

  switch (sub) {
    case 'create': {
      const tenants = list(v.tenant);
      if (tenants.length === 0) throw new UsageError('create needs --tenant');
      const pub = list(v.pub);
      const subRules = list(v.sub);
      if (pub.length === 0 && subRules.length === 0) throw new UsageError('create needs at least one --pub or --sub rule');
      const expiresAt = new Date(Date.now() + ttlMs);
      const token = await createToken(
        {
          grants: [{ tenant_ids: tenants, allow_channels_pub: pub, allow_channels_sub: subRules }],
          expiresAt,
          createdBy: v['created-by'] ?? 'fastpubsub-cli',
          ...(v.description === undefined ? {} : { description: v.description }),
          allowIpMasks: list(v['allow-ip']),
          allowRegions: list(v['allow-region']),
          allowedWsOrigin: list(v['allow-origin']),
        },
        admin,
      );
      process.stdout.write(v.json ? `${JSON.stringify({ token, expires_at: expiresAt.toISOString() })}\n` : `${token}\n`);
      if (!v.json) process.stderr.write(`token: expires at ${expiresAt.toISOString()}\n`);
      return 0;
    }
    case 'refresh': {
      let id = v['token-id'];
      if (id === undefined && v.token !== undefined) {
        try {
          id = tokenId(v.token);
        } catch (err) {
          throw new UsageError(err instanceof Error ? err.message : String(err));
        }
      }
      if (id === undefined) throw new UsageError('refresh needs --token or --token-id');
      const r = await refreshToken({ tokenId: id, expiresAt: new Date(Date.now() + ttlMs) }, admin);
      process.stdout.write(v.json ? `${JSON.stringify({ message: r.message, new_expires_at: r.newExpiresAt })}\n` : `${r.newExpiresAt}\n`);
      return 0;
    }
    case 'revoke': {
      if (v.token === undefined) throw new UsageError('revoke needs --token');
      const message = await revokeToken({ token: v.token }, admin);
      process.stdout.write(v.json ? `${JSON.stringify({ message })}\n` : `${message}\n`);
      return 0;
    }
  }
}

// Structurally main.ts's Command (importing it would be an import cycle; see relay.ts).
export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'create, refresh or revoke access tokens (master token)',
  async run(argv) {
    try {
      return await run(argv);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`fastpubsub token: ${err.message}\nRun 'fastpubsub token --help' for usage.\n`);
        return 2;
      }
      const hint = isClientError(err) && err.code === 'unauthorized' ? ' (check --master-token)' : '';
      process.stderr.write(`fastpubsub token: ${err instanceof Error ? err.message : String(err)}${hint}\n`);
      return 1;
    }
  },
};
