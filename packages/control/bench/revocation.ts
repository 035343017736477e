// Revocation latency: time from the revoke API call until a new connection with that token is
// refused (HTTP 401) at every PoP. Three real relays (PoPs) follow the control plane; the
// store is a real 3-member etcd cluster on loopback (two stateless control instances, the
// revoke sent to the one the PoPs are NOT watching) and/or the embedded store.
//
//   node --conditions=development --import tsx packages/control/bench/revocation.ts [--store etcd|embedded|both] [--repeats 30]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startRelay, type Relay } from '@fastpubsub/testkit/relay';
import { startControl, type Control } from '@fastpubsub/control';
import { EtcdCluster } from '../test/etcd-cluster.js';
import { arg, summary } from './stats.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`Usage: npm run bench:revocation -- [--store etcd|embedded|both] [--repeats N]

Revocation latency: from the revoke API call until a new connection with that token is refused
at every one of three PoPs, with a 3-member etcd store and/or the embedded store.
  --store S     etcd | embedded | both (default both; etcd needs the etcd binary)
  --repeats N   revocations per store (default 30)
`);
  process.exit(0);
}

const OPERATOR = 'bench-operator-token-0123456789abcdef';
const POP = 'bench-pop-token-0123456789abcdefghij';

function upgrade(wsUrl: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false, handshakeTimeout: 2000 });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', () => resolve(0));
  });
}

async function post(url: string, method: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function run(kind: 'etcd' | 'embedded', repeats: number): Promise<void> {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'fps-bench-rev-'));
    dirs.push(d);
    return d;
  };
  let etcd: EtcdCluster | undefined;
  const controls: Control[] = [];
  const relays: Relay[] = [];
  try {
    const base = { listen: { host: '127.0.0.1', port: 0 }, operatorToken: OPERATOR, popToken: POP, logLevel: 'silent' as const };
    if (kind === 'etcd') {
      etcd = await EtcdCluster.start(3);
      const store = { kind: 'etcd' as const, endpoints: etcd.endpoints, prefix: '/bench' };
      controls.push(await startControl({ ...base, store }), await startControl({ ...base, store }));
    } else {
      controls.push(await startControl({ ...base, store: { kind: 'embedded', dataDir: await dir() } }));
    }
    const watched = controls[0] as Control;
    const api = controls[controls.length - 1] as Control;
    for (let i = 0; i < 3; i++) {
      relays.push(
        await startRelay({
          listen: { host: '127.0.0.1', port: 0 },
          masterToken: OPERATOR,
          dataDir: await dir(),
          logLevel: 'silent',
          control: { urls: [watched.url], token: POP },
        }),
      );
    }
    const samples: number[] = [];
    const apiMs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const issued = await post(`${api.url}/v1/get-token`, 'POST', {
        right: { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['#'], allow_channels_sub: ['#'] }], expires_at: new Date(Date.now() + 600_000).toISOString() },
        created_by: 'bench',
      });
      const token = (issued.json as { token: string }).token;
      for (const relay of relays) {
        while ((await upgrade(relay.wsUrl, token)) !== 101) await new Promise((res) => setTimeout(res, 5));
      }
      const t0 = performance.now();
      const revoke = post(`${api.url}/v1/revoke-token`, 'DELETE', { token }).then((x) => {
        apiMs.push(performance.now() - t0);
        return x;
      });
      const refusedAt = await Promise.all(
        relays.map(async (relay) => {
          for (;;) {
            const s = await upgrade(relay.wsUrl, token);
            if (s === 401) return performance.now() - t0;
            if (performance.now() - t0 > 10_000) throw new Error('not refused within 10 s');
          }
        }),
      );
      await revoke;
      samples.push(Math.max(...refusedAt));
    }
    const s = summary(samples);
    const a = summary(apiMs);
    process.stdout.write(
      `| ${kind.padEnd(8)} | ${String(s.n).padStart(7)} | ${s.median.toFixed(1).padStart(10)} | ${s.p99.toFixed(1).padStart(7)} | ${s.max.toFixed(1).padStart(7)} | ${a.median.toFixed(1).padStart(13)} |\n`,
    );
  } finally {
    for (const r of relays) await r.close({ graceMs: 0 });
    for (const c of controls) await c.close();
    await etcd?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

const store = arg('store', 'both');
const repeats = Number(arg('repeats', '30'));
process.stdout.write(`revocation: revoke API call -> new connection refused (401) at all 3 PoPs; ms; ${repeats} repeats; target < 1000 ms\n`);
process.stdout.write('| store    | repeats | median ms  | p99 ms  | max ms  | API median ms |\n|----------|---------|------------|---------|---------|---------------|\n');
for (const kind of store === 'both' ? (['embedded', 'etcd'] as const) : [store as 'etcd' | 'embedded']) await run(kind, repeats);
