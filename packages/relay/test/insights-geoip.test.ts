// Connection insights on a real relay: clients from two "countries" (addresses from the bundled
// GeoIP database, added as loopback aliases for the test and removed after it) show up in
// /metrics by country, by User-Agent class and with their bot flags; the busiest channels of a
// tenant appear as top-K series with the rest in channel="_other". Needs root (ip addr add).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { Client, MASTER_TOKEN, encodePublishV1, issueToken, metricValue, scrapeMetrics, waitFor } from '@fastpubsub/testkit/relay';
import { QuicEndpoint } from '@fastpubsub/quic';
import { encodeAuth } from '@fastpubsub/wire';
import { GeoIpCountry } from '../src/telemetry/index.js';

// In the database: a Japanese and a German allocation (checked below, so a database update that
// moves them fails loudly instead of testing nothing).
const JAPAN = '133.11.250.250';
const GERMANY = '193.99.145.250';
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

let relay: Relay;
let dir: string;
const added: string[] = [];
const clients: Client[] = [];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

before(async () => {
  if (process.getuid?.() !== 0) throw new Error('insights-geoip needs root: it adds loopback address aliases with `ip addr add … dev lo`');
  for (const address of [JAPAN, GERMANY]) {
    try {
      ip('addr', 'add', `${address}/32`, 'dev', 'lo');
      added.push(address);
    } catch (err) {
      if (!/File exists/.test(String((err as { stderr?: Buffer }).stderr))) throw new Error(`ip addr add ${address}/32 dev lo failed (iproute2 installed?): ${String(err)}`);
    }
  }
  dir = await mkdtemp(join(tmpdir(), 'fps-insights-'));
  relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: dir,
    logLevel: 'silent',
    quic: { listen: { host: '127.0.0.1', port: 0 } },
    limits: { authFailuresPerIp: 1000 },
  });
});

after(async () => {
  for (const c of clients) c.ws.terminate();
  await relay?.close({ graceMs: 0 });
  for (const address of added) ip('addr', 'del', `${address}/32`, 'dev', 'lo');
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function connectFrom(localAddress: string, token: string, userAgent: string): Promise<Client> {
  const ws = new WebSocket(relay.wsUrl, ['llps.v1', `at.${token}`], { localAddress, headers: { 'User-Agent': userAgent }, perMessageDeflate: false, handshakeTimeout: 3000 });
  const client = new Client(ws);
  clients.push(client);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? '?'}`)));
  });
}

test('the bundled database places the test addresses', () => {
  const geo = new GeoIpCountry();
  assert.equal(geo.country(JAPAN), 'JP');
  assert.equal(geo.country(`::ffff:${GERMANY}`), 'DE');
  assert.equal(geo.country('127.0.0.1'), 'unknown');
  assert.equal(geo.country('not an address'), 'unknown');
});

test('clients from Japan and Germany: connections by country and agent, bot flags, top-K channels with _other on /metrics', async () => {
  const token = await issueToken(relay.httpUrl);
  // Two browser connections from Japan; from Germany a crawler and, after failed logins, a script.
  const [tokyoA] = [await connectFrom(JAPAN, token, BROWSER_UA), await connectFrom(JAPAN, token, BROWSER_UA)];
  await connectFrom(GERMANY, token, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
  for (let i = 0; i < 5; i++) await assert.rejects(connectFrom(GERMANY, 'AT_bogus_token', 'python-requests/2.31'), /HTTP 401/);
  await connectFrom(GERMANY, token, 'python-requests/2.31');

  // 300 publishes in well under a second from one browser connection: more than a person's
  // page plausibly sends (impossible_rate). One hot channel, a warm one and 200 single ones.
  const frames: Buffer[] = [];
  for (let i = 0; i < 300; i++) frames.push(encodePublishV1('t1', 'a.hot', 'x'));
  for (let i = 0; i < 60; i++) frames.push(encodePublishV1('t1', 'a.warm', 'y'));
  for (let i = 0; i < 200; i++) frames.push(encodePublishV1('t1', `a.cold.${i}`, 'z'));
  for (const f of frames) tokyoA.ws.send(f);

  let text = '';
  await waitFor(async () => {
    text = await scrapeMetrics(relay);
    return (metricValue(text, 'fastpubsub_channel_messages_per_second', { tenant: 't1', channel: 'a.hot' }) ?? 0) > 0 &&
      metricValue(text, 'fastpubsub_flagged_connections', { flag: 'impossible_rate' }) === 1;
  }, 5000, 'a.hot in the top-K series and the impossible-rate flag');

  assert.equal(metricValue(text, 'fastpubsub_connections_by_country', { country: 'JP' }), 2);
  assert.equal(metricValue(text, 'fastpubsub_connections_by_country', { country: 'DE' }), 2);
  assert.equal(metricValue(text, 'fastpubsub_connections_by_agent', { agent: 'browser' }), 2);
  assert.equal(metricValue(text, 'fastpubsub_connections_by_agent', { agent: 'crawler' }), 1);
  assert.equal(metricValue(text, 'fastpubsub_connections_by_agent', { agent: 'scripted' }), 1);
  assert.equal(metricValue(text, 'fastpubsub_flagged_connections', { flag: 'crawler_agent' }), 1);
  assert.equal(metricValue(text, 'fastpubsub_flagged_connections', { flag: 'auth_failures' }), 1, 'the script connected after 5 failed logins from its address');
  assert.equal(metricValue(text, 'fastpubsub_auth_failing_addresses'), 1);
  assert.equal(metricValue(text, 'fastpubsub_tenant_connections', { tenant: 't1' }), 4);

  // Bounded cardinality: at most 10 channel series of t1 plus _other, whatever was published.
  const series = text.split('\n').filter((l) => l.startsWith('fastpubsub_channel_messages_per_second{') && l.includes('tenant="t1"'));
  assert.ok(series.length <= 11, `at most 11 channel series, got ${series.length}`);
  assert.ok(series.some((l) => l.includes('channel="_other"')), 'the rest as _other');

});

test('a QUIC client from the Japanese address is counted in its country too (no User-Agent: agent "none")', async () => {
  const token = await issueToken(relay.httpUrl);
  const before = metricValue(await scrapeMetrics(relay), 'fastpubsub_connections_by_country', { country: 'JP' }) ?? 0;
  // A client endpoint bound to the alias, so the relay sees that source address.
  const endpoint = new QuicEndpoint({ host: JAPAN });
  try {
    const conn = await endpoint.connect({ host: '127.0.0.1', port: relay.quicPort!, alpn: ['fastpubsub/1'], caPem: relay.quicCaPem! });
    const control = conn.openBidiStream();
    control.on('data', () => undefined);
    control.write(Buffer.from(encodeAuth({ token })));
    let text = '';
    await waitFor(async () => {
      text = await scrapeMetrics(relay);
      return metricValue(text, 'fastpubsub_connections_by_country', { country: 'JP' }) === before + 1;
    }, 5000, 'the QUIC connection counted in JP');
    assert.ok((metricValue(text, 'fastpubsub_connections_by_agent', { agent: 'none' }) ?? 0) >= 1);
    conn.close(0, 'done');
    await waitFor(async () => metricValue(await scrapeMetrics(relay), 'fastpubsub_connections_by_country', { country: 'JP' }) === before, 5000, 'the closed QUIC connection no longer counted');
  } finally {
    await endpoint.close(0, 'done');
  }
});
