// `fastpubsub dev [--topology FILE]`: a local mesh of relays as separate processes behind the
// link emulator (see dev-cluster.ts), its endpoints and a ready master token printed, all
// stopped cleanly on Ctrl-C (SIGINT) or SIGTERM.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseFlags } from '@fastpubsub/core';
import { fileURLToPath } from 'node:url';
import { waitForStopSignal } from '@fastpubsub/core';
import type { Command } from '../command.js';
import { consoleDir } from './console-dir.js';
import { startDevCluster, type DevCluster, type DevNode } from './dev-cluster.js';

const USAGE = `Usage: fastpubsub dev [options]

Starts an embedded control plane and one relay process per node of a topology, links the
relays through the userspace link emulator (delay, jitter, loss per link) and prints their
endpoints, a ready tenant and its master token. Ctrl-C stops everything.

Options:
  --topology FILE   topology JSON (nodes, links with delayMs/jitterMs/lossRate);
                    default: topologies/default.json (Tokyo, Singapore, Frankfurt)
  --dir DIR         keep PKI, configs and data here (default: a temp dir, removed on exit)
  --log-level L     relay log level: debug, info, warn (default), error, silent
  --no-control      no control plane: each relay issues its own tokens (standalone mode)
  -h, --help        this help
`;

// An installed package carries its copy (packages/cli/topologies, added by `npm run pack`); a
// repository checkout uses the repository's topologies/.
const PACKAGED_TOPOLOGY = fileURLToPath(new URL('../../topologies/default.json', import.meta.url));
const DEFAULT_TOPOLOGY = existsSync(PACKAGED_TOPOLOGY) ? PACKAGED_TOPOLOGY : fileURLToPath(new URL('../../../../topologies/default.json', import.meta.url));

export const command: Command = {
  summary: 'run a local relay mesh behind the link emulator',
  async run(argv) {
    let flags;
    try {
      flags = parseFlags({
        args: argv,
        options: {
          topology: { type: 'string' },
          dir: { type: 'string' },
          'log-level': { type: 'string' },
          'no-control': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (err) {
      process.stderr.write(`fastpubsub dev: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    if (flags.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    const level = flags['log-level'] ?? 'warn';
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) {
      process.stderr.write(`fastpubsub dev: --log-level must be debug, info, warn, error or silent\n`);
      return 2;
    }
    const file = flags.topology ?? DEFAULT_TOPOLOGY;
    let topology: unknown;
    try {
      topology = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      process.stderr.write(`fastpubsub dev: cannot read topology ${file}: ${(err as Error).message}\n`);
      return 2;
    }
    const consoleBuild = flags['no-control'] === true ? undefined : consoleDir();
    let cluster: DevCluster;
    try {
      cluster = await startDevCluster(topology, {
        ...(flags.dir === undefined ? {} : { dir: flags.dir }),
        logLevel: level as 'warn',
        control: flags['no-control'] !== true,
        ...(consoleBuild === undefined ? {} : { consoleDir: consoleBuild }),
        onLog: (id, line) => process.stderr.write(`[${id}] ${line}\n`),
      });
    } catch (err) {
      process.stderr.write(`fastpubsub dev: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(readyText(cluster, file, consoleBuild !== undefined));
    const stop = await waitForStopSignal();
    process.stderr.write(`fastpubsub dev: ${stop.signal}, stopping ${cluster.nodes.size} relays\n`);
    await cluster.stop();
    stop.release();
    process.stderr.write('fastpubsub dev: stopped\n');
    return 0;
  },
};

/** What `dev` prints once every relay is up: every address, the CAs, tokens and try-it commands. */
function readyText(cluster: DevCluster, file: string, consoleBuilt: boolean): string {
  const lines = [`fastpubsub dev: ${cluster.nodes.size} relays up (topology ${file})`, ''];
  for (const n of cluster.nodes.values()) {
    lines.push(`  ${n.id.padEnd(12)} http ${n.httpUrl}  ws ${n.wsUrl}  quic ${n.quic} (udp)  mesh ${n.mesh} (udp)  pid ${String(n.pid)}`);
    lines.push(`  ${''.padEnd(12)} quic CA ${n.quicCaFile}  metrics ${n.httpUrl}/metrics`);
  }
  lines.push('', 'Emulated links (one-way delay):');
  for (const l of cluster.emulator.topology.links) {
    const ab = cluster.emulator.addressFor(l.a, l.b);
    const ba = cluster.emulator.addressFor(l.b, l.a);
    const shape = `${l.delayMs} ms${l.jitterMs ? ` ±${l.jitterMs}` : ''}${l.lossRate ? ` loss ${l.lossRate}` : ''}`;
    lines.push(`  ${l.a} <-> ${l.b}  ${shape}  (udp ${ab.host}:${ab.port} / ${ba.host}:${ba.port})`);
  }
  const nodesList = [...cluster.nodes.values()];
  const first = nodesList[0]!;
  const last = nodesList[nodesList.length - 1]!;
  const c = cluster.control;
  const tenant = c?.tenant ?? 'demo';
  lines.push('');
  if (c !== undefined) {
    lines.push(
      `control plane: ${c.url}  (operator token ${c.operatorToken}; API at ${c.url}/openapi.json)`,
      `tenant:        ${c.tenant}  master token ${c.tenantMasterToken}`,
      consoleBuilt
        ? `console: ${c.url}/console/  (live map; tenant console: sign in with the operator token ${c.operatorToken} or the ${c.tenant} master token ${c.tenantMasterToken})`
        : 'console:       not built (run npm run build)',
    );
  } else {
    lines.push(`master token:  ${cluster.masterToken}`);
  }
  lines.push(`routes:        curl ${first.httpUrl}/v1/mesh/routes   links: curl ${first.httpUrl}/v1/mesh/links`, '');
  const mint = (variable: string, at: DevNode): string => {
    const body = JSON.stringify({
      right: {
        tenant_grants: [{ tenant_ids: [tenant], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }],
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      },
      created_by: 'fastpubsub dev',
    });
    const auth = c?.tenantMasterToken ?? cluster.masterToken;
    return `  ${variable}=$(curl -s -X POST -H 'Authorization: Bearer ${auth}' -H 'Content-Type: application/json' ${at.httpUrl}/v1/get-token -d '${body}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`;
  };
  if (c !== undefined) {
    // With the control plane, a token is a signed ticket every relay verifies.
    lines.push('Try it (an access token valid for 1 h, a subscriber at the last relay, a publisher at the first):', mint('AT', first));
    lines.push(`  npx fastpubsub sub --url ${last.httpUrl} --token $AT ${tenant} 'chat.#' &`, `  npx fastpubsub pub --url ${first.httpUrl} --token $AT ${tenant} chat.room1 hello`);
  } else {
    // Standalone relays each keep their own token store: mint each token where it is used.
    lines.push('Try it (each relay issues its own tokens, so each client gets a token from the relay it uses):', mint('SUB_AT', last), mint('PUB_AT', first));
    lines.push(`  npx fastpubsub sub --url ${last.httpUrl} --token $SUB_AT ${tenant} 'chat.#' &`, `  npx fastpubsub pub --url ${first.httpUrl} --token $PUB_AT ${tenant} chat.room1 hello`);
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}
