// Attacks on connection capacity: silent TCP floods, QUIC handshakes that never AUTH, one
// token opening thousands of connections, and a half-open client.
import net from 'node:net';
import { QuicEndpoint, type QuicConnection } from '@fastpubsub/quic';
import { QuicEdgeClient } from '@fastpubsub/client/quic';
import type { WebSocket } from 'ws';
import { HealthyClient, issueToken, openWs, sleep, startRelayProcess, type RelayProcess } from './harness.js';
import { metric } from './metrics-text.js';
import type { AttackSizes, RowResult } from './types.js';

async function withRelay<T>(config: Record<string, unknown>, fn: (relay: RelayProcess) => Promise<T>): Promise<T> {
  const relay = await startRelayProcess(config);
  try {
    return await fn(relay);
  } finally {
    await relay.stop();
  }
}

/** Opens `n` TCP connections spread over source addresses 127.0.1.1…, each sending nothing. */
async function silentSockets(port: number, n: number, perIp: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  const opening: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.1.${1 + Math.floor(i / perIp)}` });
    s.on('error', () => undefined);
    out.push(s);
    opening.push(new Promise((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    }));
    if (opening.length >= 500) await Promise.all(opening.splice(0));
  }
  await Promise.all(opening);
  return out;
}

export async function silentTcpFlood(sizes: AttackSizes): Promise<RowResult> {
  const n = sizes.small ? 600 : 10_000;
  const config = sizes.small ? { quic: { enabled: false }, limits: { maxPreAuthConnections: 200, maxConnectionsPerIp: 250, handshakeTimeoutMs: 1000 } } : { quic: { enabled: false } };
  return withRelay(config, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const t0 = Date.now();
    const sockets = await silentSockets(relay.port, n, sizes.small ? 300 : 2000);
    const deadline = Date.now() + 20_000;
    while (sockets.some((s) => !s.destroyed) && Date.now() < deadline) await sleep(100);
    const allClosedMs = Date.now() - t0;
    const open = sockets.filter((s) => !s.destroyed).length;
    for (const s of sockets) s.destroy();
    const m = await relay.metrics();
    const report = await healthy.stop();
    const reason = (r: string): number => metric(m, 'fastpubsub_connections_refused_total', { edge: 'ws', reason: r });
    return {
      attack: `${n} silent TCP connections, no token`,
      relayDid: `cut ${reason('per_ip')} over the per-IP cap, evicted ${reason('pre_auth_evicted')} oldest pre-auth, reaped ${reason('handshake_timeout')} at the handshake deadline; all gone after ${(allClosedMs / 1000).toFixed(1)} s (${open} left)`,
      defended: open === 0,
      healthy: report,
    };
  });
}

export async function quicNeverAuth(sizes: AttackSizes): Promise<RowResult> {
  const n = sizes.small ? 60 : 500;
  const maxConnections = sizes.small ? 20 : 100;
  return withRelay({ limits: { maxConnections } }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const endpoint = new QuicEndpoint({ host: '127.0.0.2' });
    const conns: QuicConnection[] = [];
    let failed = 0;
    try {
      for (let i = 0; i < n; i += 20) {
        const batch = await Promise.allSettled(
          Array.from({ length: Math.min(20, n - i) }, () =>
            endpoint.connect({ host: '127.0.0.1', port: relay.quicPort as number, alpn: ['fastpubsub/1'], caPem: relay.quicCaPem as string }),
          ),
        );
        for (const b of batch) if (b.status === 'fulfilled') conns.push(b.value); else failed++;
      }
      // A real client while the silent handshakes hold their slots.
      const token = await issueToken(relay.httpUrl, 'quic-real');
      let realOk = false;
      try {
        const q = await QuicEdgeClient.connect({ host: '127.0.0.1', port: relay.quicPort as number, token, caPem: relay.quicCaPem as string });
        await q.ping();
        realOk = true;
        await q.closed();
      } catch {
        realOk = false;
      }
      const closedInTime = await Promise.race([Promise.all(conns.map((c) => c.closed)).then(() => true), sleep(12_000).then(() => false)]);
      const m = await relay.metrics();
      return {
        attack: `${n} QUIC connections that handshake and never AUTH (maxConnections ${maxConnections})`,
        relayDid: `${conns.length} handshakes held outside authenticated capacity (${failed} refused), ${metric(m, 'fastpubsub_connections_refused_total', { edge: 'quic', reason: 'pre_auth_evicted' })} evicted; a real client ${realOk ? 'authenticated' : 'was LOCKED OUT'}; silent ones ${closedInTime ? 'closed at the AUTH deadline' : 'NOT closed'}`,
        defended: realOk && closedInTime,
        healthy: await healthy.stop(),
      };
    } finally {
      await endpoint.close(0, 'done');
    }
  });
}

export async function oneTokenFlood(sizes: AttackSizes): Promise<RowResult> {
  const n = sizes.small ? 300 : 10_000;
  const perTenant = sizes.small ? 100 : 2500;
  return withRelay({ quic: { enabled: false }, limits: { maxConnectionsPerTenant: perTenant } }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const token = await issueToken(relay.httpUrl, 'greedy');
    const held: WebSocket[] = [];
    let refused = 0;
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(100, n - i) }, (_, k) => openWs(relay.wsUrl, token, `127.0.2.${1 + Math.floor((i + k) / 1000)}`)),
      );
      for (const b of batch) if (b.status === 'fulfilled') held.push(b.value); else refused++;
    }
    // Another tenant connects while the greedy one sits at its limit.
    let otherOk = false;
    try {
      const other = await openWs(relay.wsUrl, await issueToken(relay.httpUrl, 'other'));
      otherOk = true;
      other.terminate();
    } catch {
      otherOk = false;
    }
    for (const ws of held) ws.terminate();
    return {
      attack: `one token opening ${n} connections (standalone relay)`,
      relayDid: `${held.length} admitted (tenant cap ${perTenant}), ${refused} refused with 429; another tenant ${otherOk ? 'connected' : 'was LOCKED OUT'}`,
      defended: held.length <= perTenant && otherOk,
      healthy: await healthy.stop(),
    };
  });
}

export async function halfOpenClient(sizes: AttackSizes): Promise<RowResult> {
  const limits = sizes.small ? { wsPingIntervalMs: 500, wsPongTimeoutMs: 500 } : {};
  return withRelay({ quic: { enabled: false }, limits }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const token = await issueToken(relay.httpUrl, 'blackholed');
    const ws = await openWs(relay.wsUrl, token, '127.0.0.9');
    ws.send('SUB:blackholed:x.#');
    await sleep(200);
    // The blackhole: nothing is read and nothing answered from now on (ws answers pings only while reading).
    const raw = (ws as unknown as { _socket: net.Socket })._socket;
    raw.pause();
    const before = metric(await relay.metrics(), 'fastpubsub_connections', { edge: 'ws' });
    const t0 = Date.now();
    const bound = sizes.small ? 5000 : 40_000;
    let freedMs = -1;
    while (Date.now() - t0 < bound) {
      await sleep(250);
      if (metric(await relay.metrics(), 'fastpubsub_connections', { edge: 'ws' }) < before) {
        freedMs = Date.now() - t0;
        break;
      }
    }
    ws.terminate();
    return {
      attack: 'a client behind a blackhole (half-open TCP)',
      relayDid: freedMs >= 0 ? `pinged it and freed its slot and subscriptions after ${(freedMs / 1000).toFixed(1)} s` : `slot NOT freed within ${bound / 1000} s`,
      defended: freedMs >= 0,
      healthy: await healthy.stop(),
    };
  });
}
