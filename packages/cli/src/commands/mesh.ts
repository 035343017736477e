// `fastpubsub mesh init --out DIR --relays a,b,c`: the mesh CA and one certificate + key per
// relay (issued with the openssl command; see relay/src/mesh/link/pki.ts for why).
import { parseFlags } from '@fastpubsub/core';
import type { Command } from '../command.js';

const USAGE = `Usage: fastpubsub mesh init --out DIR --relays ID[,ID...]
       fastpubsub mesh issue-agent --out DIR --id AGENT --tenant TENANT

Creates DIR/ca.pem and DIR/ca.key (kept if they exist: add relays to an existing mesh) and
DIR/<id>.pem, DIR/<id>.key per relay. Relay ids: 1-64 characters of [A-Za-z0-9_.-].
Point each relay's config at them: "mesh": { "caFile", "certFile", "keyFile", "seeds": [...] }.

issue-agent signs DIR/<agent>.pem and DIR/<agent>.key with the CA in DIR for an edge agent
(docs/agent.md) bound to one tenant: PoPs let it carry that tenant's traffic only.
`;

export const command: Command = {
  summary: 'create the mesh CA and relay certificates',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (sub === 'issue-agent') return issueAgent(rest);
    if (sub !== 'init') {
      process.stderr.write(`fastpubsub mesh: unknown subcommand '${sub ?? ''}'\n${USAGE}`);
      return 2;
    }
    let flags;
    try {
      flags = parseFlags({ args: rest, options: { out: { type: 'string' }, relays: { type: 'string' }, days: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
    } catch (err) {
      process.stderr.write(`fastpubsub mesh init: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    if (flags.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (flags.out === undefined || flags.relays === undefined) {
      process.stderr.write(`fastpubsub mesh init: --out and --relays are required\n${USAGE}`);
      return 2;
    }
    const relays = flags.relays.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const days = flags.days === undefined ? undefined : Number(flags.days);
    if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
      process.stderr.write('fastpubsub mesh init: --days must be a positive integer\n');
      return 2;
    }
    const { createMeshPki } = await import('@fastpubsub/relay');
    try {
      const p = await createMeshPki(flags.out, relays, days === undefined ? {} : { days });
      process.stdout.write(`mesh CA: ${p.caCert}\n`);
      for (const [id, f] of Object.entries(p.relays)) process.stdout.write(`relay ${id}: ${f.cert} ${f.key}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`fastpubsub mesh init: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

async function issueAgent(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags({ args: argv, options: { out: { type: 'string' }, id: { type: 'string' }, tenant: { type: 'string' }, days: { type: 'string' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`fastpubsub mesh issue-agent: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (flags.out === undefined || flags.id === undefined || flags.tenant === undefined) {
    process.stderr.write(`fastpubsub mesh issue-agent: --out, --id and --tenant are required\n${USAGE}`);
    return 2;
  }
  const days = flags.days === undefined ? undefined : Number(flags.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    process.stderr.write('fastpubsub mesh issue-agent: --days must be a positive integer\n');
    return 2;
  }
  const { issueAgentCertificate } = await import('@fastpubsub/relay');
  try {
    const f = await issueAgentCertificate(flags.out, flags.id, flags.tenant, days === undefined ? {} : { days });
    process.stdout.write(`agent ${flags.id} (tenant ${flags.tenant}): ${f.cert} ${f.key} (CA ${f.ca})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`fastpubsub mesh issue-agent: ${(err as Error).message}\n`);
    return 1;
  }
}
