// Attacks on work and memory: adversarial subscription patterns, unfinished fragmented
// messages, credential guessing, and reading secrets at rest as another local user.
import net from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { adversarialPatterns } from './matching.js';
import { HealthyClient, issueToken, openWs, sleep, startRelayProcess, v1Publish, type RelayProcess } from './harness.js';
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

/**
 * Sends SUBs and counts the answers by kind; resolves once every SUB was answered (or 10 s).
 * Every SUB ends with an OK:SUB; a refused one gets its ERR first, and the OK that follows it is
 * inert (contract §11.8), so it counts as refused, not accepted.
 */
async function subscribeAll(ws: WebSocket, tenant: string, patterns: string[]): Promise<{ ok: number; refused: Map<string, number> }> {
  const refused = new Map<string, number>();
  const refusedKeys = new Set<string>();
  let ok = 0;
  let answered = 0;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 10_000);
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (isBinary) return;
      const text = data.toString('utf8');
      if (text.startsWith('OK:SUB:')) {
        answered++;
        if (!refusedKeys.delete(text.slice('OK:SUB:'.length))) ok++;
      } else if (text.startsWith('ERR:')) {
        const [, code = '?', kind, ...rest] = text.split(':');
        refused.set(code, (refused.get(code) ?? 0) + 1);
        if (kind === 'SUB') refusedKeys.add(rest.join(':'));
      }
      if (answered >= patterns.length) {
        clearTimeout(t);
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
    for (const p of patterns) ws.send(`SUB:${tenant}:${p}`);
  });
  return { ok, refused };
}

export async function adversarialPatternsAttack(sizes: AttackSizes): Promise<RowResult> {
  const seconds = sizes.small ? 2 : 5;
  return withRelay({ quic: { enabled: false } }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const token = await issueToken(relay.httpUrl, 'evil', ['#']);
    const a = await openWs(relay.wsUrl, token, '127.0.0.5');
    const b = await openWs(relay.wsUrl, token, '127.0.0.5');
    // The original shape: 1,000 patterns of 128 `a`/`*` tokens.
    const huge = adversarialPatterns(sizes.small ? 200 : 1000, 128, 128);
    const first = await subscribeAll(a, 'evil', huge);
    // The worst the limits allow: 1,024 wildcard patterns of 16 tokens (4 wildcards) on two connections.
    const allowed = adversarialPatterns(1024, 16, 4);
    const s1 = await subscribeAll(a, 'evil', allowed.slice(0, 900));
    const s2 = await subscribeAll(b, 'evil', allowed.slice(900));
    let largestFrame = 0;
    for (const ws of [a, b]) ws.on('message', (d: Buffer, bin: boolean) => { if (bin) largestFrame = Math.max(largestFrame, d.byteLength); });
    const pub = await openWs(relay.wsUrl, token, '127.0.0.6');
    const cpu0 = relay.cpuSeconds();
    const t0 = Date.now();
    let i = 0;
    while (Date.now() - t0 < seconds * 1000) {
      // 50 publishes/s of 1 byte, each on a channel never seen before (the match cache cannot help).
      pub.send(v1Publish('evil', `${'a.'.repeat(15)}a${i++}`, Buffer.from('x')));
      await sleep(20);
    }
    await sleep(300);
    const cpuPct = ((relay.cpuSeconds() - cpu0) / ((Date.now() - t0) / 1000)) * 100;
    for (const ws of [a, b, pub]) ws.terminate();
    // 128-token patterns over 256 bytes are already invalid syntax; the rest are over the complexity limits.
    const refusedHuge = [...first.refused.values()].reduce((x, y) => x + y, 0);
    const why = [...first.refused].map(([code, n]) => `${code} ${n}`).join(', ');
    return {
      attack: `a '#' token: ${huge.length} patterns of 128 tokens, then the worst allowed set, publisher cycling channels at 50/s`,
      relayDid: `refused ${refusedHuge}/${huge.length} 128-token patterns (${why}); accepted ${s1.ok + s2.ok} of the allowed 1024 wildcard patterns; relay CPU ${cpuPct.toFixed(0)} % over ${i} publishes; largest delivery frame ${largestFrame} B`,
      defended: first.ok === 0 && refusedHuge === huge.length && largestFrame > 0 && largestFrame < 10_000,
      healthy: await healthy.stop(),
    };
  });
}

/** One masked client frame with an explicit FIN bit. */
function frame(opcode: number, fin: boolean, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([head, mask, body]);
}

/** An upgraded raw socket (the attack needs frames a library would not send). */
function rawUpgrade(port: number, token: string, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    const key = randomBytes(16).toString('base64');
    s.once('error', reject);
    s.once('connect', () => {
      s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: llps.v1,at.${token}\r\n\r\n`);
    });
    s.once('data', (d: Buffer) => (d.toString('latin1').startsWith('HTTP/1.1 101') ? resolve(s) : reject(new Error(d.toString('latin1').split('\r\n')[0]))));
  });
}

/** One wave of the fragment attack; resolves with how many sockets the relay had not cut by `boundMs`. */
async function fragmentWave(relay: RelayProcess, token: string, n: number, boundMs: number): Promise<number> {
  const sockets: net.Socket[] = [];
  const chunk = randomBytes(64);
  for (let i = 0; i < n; i++) {
    const s = await rawUpgrade(relay.port, token, `127.0.4.${1 + Math.floor(i / 500)}`);
    s.on('error', () => undefined);
    s.resume();
    sockets.push(s);
    // Even sockets: 1 MiB in 64-byte fragments (cut at the message limit). Odd: 60 KB, never finished (cut at the deadline).
    const fragments = i % 2 === 0 ? 16_384 : 940;
    const parts: Buffer[] = [frame(0x2, false, chunk)];
    for (let k = 1; k < fragments; k++) parts.push(frame(0x0, false, chunk));
    s.write(Buffer.concat(parts));
  }
  const t0 = Date.now();
  while (sockets.some((s) => !s.destroyed) && Date.now() - t0 < boundMs) await sleep(100);
  const left = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  return left;
}

export async function fragmentAttack(sizes: AttackSizes): Promise<RowResult> {
  const n = sizes.small ? 40 : 200;
  const limits = sizes.small ? { wsMessageTimeoutMs: 1000 } : {};
  return withRelay({ quic: { enabled: false }, limits }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const token = await issueToken(relay.httpUrl, 'frag');
    const rss0 = relay.rssMb();
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, relay.rssMb())), 100);
    const bound = sizes.small ? 8000 : 20_000;
    // Three waves: a closed connection's memory is reused by the next (no growth wave over wave
    // beyond the garbage collector's slack; packages/relay/test/hardening-memory.test.ts checks
    // the heap itself after forced collections).
    const after: number[] = [];
    let left = 0;
    for (let wave = 0; wave < 3; wave++) {
      left += await fragmentWave(relay, token, n, bound);
      await sleep(1500);
      after.push(relay.rssMb());
    }
    clearInterval(sampler);
    const last = after[after.length - 1] as number;
    return {
      attack: `${n} connections each sending a 1 MiB (or 60 KB unfinished) message in 64-byte fragments, 3 waves`,
      relayDid: `cut every one (${left} left; message limit 65,925 B, unfinished-message deadline); RSS ${rss0.toFixed(0)} MB, peak ${peak.toFixed(0)}, after each wave ${after.map((x) => x.toFixed(0)).join(' / ')} MB`,
      defended: left === 0 && peak - rss0 < n + 64 && last - rss0 < 64,
      healthy: await healthy.stop(),
    };
  });
}

async function statusOf(url: string, init: RequestInit): Promise<number> {
  try {
    return (await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
}

function wsStatus(wsUrl: string, token: string, localAddress: string): Promise<number> {
  return openWs(wsUrl, token, localAddress).then(
    (ws) => {
      ws.terminate();
      return 101;
    },
    (err: Error) => Number(/HTTP (\d+)/.exec(err.message)?.[1] ?? 0),
  );
}

export async function credentialGuessing(sizes: AttackSizes): Promise<RowResult> {
  const [masters, tokens, forged] = sizes.small ? [300, 200, 100] : [3000, 2000, 1000];
  return withRelay({ quic: { enabled: false } }, async (relay) => {
    const healthy = await HealthyClient.start(relay);
    const real = await issueToken(relay.httpUrl, 'victim');
    const realId = real.split('_')[1] as string;
    const statuses = new Map<number, number>();
    const count = (s: number): void => void statuses.set(s, (statuses.get(s) ?? 0) + 1);
    // REST guesses from one address (fetch cannot choose its source: the suite's own 127.0.0.1).
    const guessIp = '127.0.3.1';
    for (let i = 0; i < masters; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, masters - i) }, (_, k) =>
          statusOf(`${relay.httpUrl}/v1/get-token`, { method: 'POST', headers: { authorization: `Bearer wrong-${i + k}-${'x'.repeat(32)}`, 'content-type': 'application/json' }, body: '{}' }),
        ),
      );
      batch.forEach(count);
    }
    for (let i = 0; i < tokens + forged; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, tokens + forged - i) }, (_, k) => {
          const j = i + k;
          // Wrong tokens, then forged ones: a real token id with a guessed secret.
          const t = j < tokens ? `AT_guess${j}_${createHash('sha256').update(String(j)).digest('hex')}` : `AT_${realId}_${randomBytes(16).toString('hex')}`;
          return wsStatus(relay.wsUrl, t, guessIp);
        }),
      );
      batch.forEach(count);
    }
    const victimOk = (await wsStatus(relay.wsUrl, real, '127.0.0.7')) === 101;
    const m = await relay.metrics();
    const byReason = (edge: string, reason: string): number => metric(m, 'fastpubsub_auth_failures_total', { edge, reason });
    const throttled = statuses.get(429) ?? 0;
    // The master-token guesses come from the healthy client's own address: its REST calls are throttled
    // too, which is the point; its WebSocket traffic is not.
    return {
      attack: `${masters} wrong master tokens, ${tokens} wrong access tokens, ${forged} forged secrets, as fast as possible`,
      relayDid: `401 ×${statuses.get(401) ?? 0}, throttled (429) ×${throttled}; /metrics: rest bad_master_token ${byReason('rest', 'bad_master_token')}, ws unauthorized ${byReason('ws', 'unauthorized')}, throttled ${byReason('rest', 'throttled') + byReason('ws', 'throttled')}; the real token from another address ${victimOk ? 'connected' : 'was REFUSED'}`,
      defended: throttled > (masters + tokens + forged) / 2 && victimOk,
      healthy: await healthy.stop(),
    };
  });
}

export async function secretsAtRest(sizes: AttackSizes): Promise<RowResult> {
  void sizes;
  const relay = await startRelayProcess({ quic: { enabled: true } });
  try {
    const healthy = await HealthyClient.start(relay);
    const modes: string[] = [];
    let othersCanRead = false;
    const check = async (p: string): Promise<void> => {
      const mode = (await stat(p)).mode & 0o777;
      if ((mode & 0o077) !== 0) othersCanRead = true;
      modes.push(`${p.slice(relay.dataDir.length + 1) || '.'} ${mode.toString(8)}`);
    };
    await check(relay.dataDir);
    for (const f of await readdir(relay.dataDir)) if (f.endsWith('.log')) await check(join(relay.dataDir, f));
    await check(join(relay.dataDir, 'quic', 'key.pem'));
    await sleep(500);
    return {
      attack: 'a local user reading the token store and keys',
      relayDid: `created them private (${modes.join(', ')}); a store or key readable by others is refused at start-up`,
      defended: !othersCanRead,
      healthy: await healthy.stop(),
    };
  } finally {
    await relay.stop();
  }
}
