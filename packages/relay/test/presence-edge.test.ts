// Presence at one relay over real sockets: the WebSocket PRESENCE: extension (join with client
// id and data, fold of two connections into one member, watch events, paged GET, refusals, a
// join storm rate-limited) and REST GET /v1/presence (auth, grant, paging).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { MASTER_TOKEN, connectWs, issueToken, type Client } from '@fastpubsub/testkit/relay';

let relay: Relay;
let dir: string;
let token: string;
let narrow: string;
const open: Client[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-presence-'));
  relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, logLevel: 'silent', quic: { enabled: false } });
  token = await issueToken(relay.httpUrl, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: [], allow_channels_sub: ['room.#'] }] });
  narrow = await issueToken(relay.httpUrl, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: [], allow_channels_sub: ['other.#'] }] });
});

after(async () => {
  await Promise.all(open.map((c) => c.close()));
  await relay?.close({ graceMs: 0 });
  await rm(dir, { recursive: true, force: true });
});

async function client(t = token): Promise<Client> {
  const c = await connectWs(relay.wsUrl, t);
  open.push(c);
  return c;
}

async function rest(path: string, t: string | null = token): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(relay.httpUrl + path, { headers: t === null ? {} : { authorization: `Bearer ${t}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The next text that starts with `prefix`, skipping others. */
async function nextWith(c: Client, prefix: string, ms = 2000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const t = await c.nextText(Math.max(1, end - Date.now()));
    if (t.startsWith(prefix)) return t;
  }
}

const eventOf = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf(' ') + 1)) as Record<string, unknown>;

test('join, fold, watch events, paged GET and leave on close', async () => {
  const watcher = await client();
  watcher.sendText('PRESENCE:WATCH:t1:room.a');
  assert.equal(await watcher.nextText(), 'OK:PRESENCE:WATCH:t1:room.a');

  const phone = await client();
  const laptop = await client();
  phone.sendText('PRESENCE:JOIN:t1:room.a {"clientId":"alice","data":{"device":"phone"}}');
  assert.equal(await phone.nextText(), 'OK:PRESENCE:JOIN:t1:room.a');
  const joined = eventOf(await nextWith(watcher, 'PRESENCE:EVENT:t1:room.a '));
  assert.deepEqual(joined, { type: 'join', clientId: 'alice', data: { device: 'phone' }, count: 1 });

  laptop.sendText('PRESENCE:JOIN:t1:room.a {"clientId":"alice"}');
  assert.equal(await laptop.nextText(), 'OK:PRESENCE:JOIN:t1:room.a');
  const bob = await client();
  bob.sendText('PRESENCE:JOIN:t1:room.a');
  assert.equal(await bob.nextText(), 'OK:PRESENCE:JOIN:t1:room.a');
  const bobEvent = eventOf(await nextWith(watcher, 'PRESENCE:EVENT:t1:room.a '));
  assert.equal(bobEvent.type, 'join');
  assert.match(String(bobEvent.clientId), /^[0-9a-f]+:ws\d+$/, 'default client id: token id and connection');
  assert.equal(bobEvent.count, 2, 'alice on two connections is one member');

  const r = await rest('/v1/presence/t1/room.a?limit=1');
  assert.equal(r.status, 200);
  assert.equal(r.json.count, 2);
  assert.equal((r.json.members as unknown[]).length, 1);
  const r2 = await rest(`/v1/presence/t1/room.a?limit=1&after=${encodeURIComponent(String(r.json.next))}`);
  assert.equal((r2.json.members as unknown[]).length, 1);
  assert.equal(r2.json.next, null);
  const ids = [...(r.json.members as Array<{ clientId: string }>), ...(r2.json.members as Array<{ clientId: string }>)].map((m) => m.clientId);
  assert.ok(ids.includes('alice'));

  watcher.sendText('PRESENCE:GET:t1:room.a {"limit":10}');
  const state = eventOf(await nextWith(watcher, 'PRESENCE:STATE:t1:room.a '));
  assert.equal(state.count, 2);

  await phone.close(); // alice still present on the laptop: no leave
  await bob.close();
  const left = eventOf(await nextWith(watcher, 'PRESENCE:EVENT:t1:room.a '));
  assert.deepEqual({ type: left.type, count: left.count }, { type: 'leave', count: 1 });
  assert.notEqual(left.clientId, 'alice');
  laptop.sendText('PRESENCE:LEAVE:t1:room.a');
  assert.equal(await laptop.nextText(), 'OK:PRESENCE:LEAVE:t1:room.a');
  const aliceLeft = eventOf(await nextWith(watcher, 'PRESENCE:EVENT:t1:room.a '));
  assert.deepEqual(aliceLeft, { type: 'leave', clientId: 'alice', data: { device: 'phone' }, count: 0 });
  assert.equal((await rest('/v1/presence/t1/room.a')).json.count, 0);
});

test('refusals: no subscribe grant, bad names, oversize data, bad JSON, unknown verb', async () => {
  const c = await client(narrow);
  c.sendText('PRESENCE:JOIN:t1:room.a');
  assert.equal(await c.nextText(), 'ERR:permission_denied:PRESENCE:JOIN:t1:room.a');
  const d = await client();
  d.sendText('PRESENCE:JOIN:t1:room.*');
  assert.match(await d.nextText(), /^ERR:invalid_name:PRESENCE:JOIN:t1:room\.\*$/);
  d.sendText(`PRESENCE:JOIN:t1:room.b {"data":"${'x'.repeat(1100)}"}`);
  assert.equal(await d.nextText(), 'ERR:payload_too_large:PRESENCE:JOIN:t1:room.b');
  d.sendText('PRESENCE:JOIN:t1:room.b {not json');
  assert.equal(await d.nextText(), 'ERR:bad_command:PRESENCE:JOIN:t1:room.b');
  d.sendText('PRESENCE:DANCE:t1:room.b');
  assert.equal(await d.nextText(), 'ERR:bad_command');
  assert.equal((await rest('/v1/presence/t1/room.b')).json.count, 0);
});

test('a join storm from one connection is rate-limited; the others are unaffected', async () => {
  const storm = await client();
  for (let i = 0; i < 200; i++) storm.sendText(`PRESENCE:JOIN:t1:room.storm {"clientId":"c${i % 5}"}`);
  let ok = 0;
  let limited = 0;
  for (let i = 0; i < 200; i++) {
    const t = await storm.nextText();
    if (t.startsWith('OK:')) ok++;
    else if (t === 'ERR:rate_limited:PRESENCE:JOIN:t1:room.storm') limited++;
  }
  assert.ok(ok >= 50 && ok < 200, `ok ${ok}`);
  assert.equal(ok + limited, 200);
  const calm = await client();
  calm.sendText('PRESENCE:JOIN:t1:room.storm {"clientId":"calm"}');
  assert.equal(await calm.nextText(), 'OK:PRESENCE:JOIN:t1:room.storm');
});

test('REST: 401 without a token, 403 without the subscribe grant, 400 for bad names and limits', async () => {
  assert.equal((await rest('/v1/presence/t1/room.a', null)).status, 401);
  assert.equal((await rest('/v1/presence/t1/room.a', 'AT_x_y')).status, 401);
  assert.equal((await rest('/v1/presence/t1/room.a', narrow)).status, 403);
  assert.equal((await rest('/v1/presence/t1/room.*')).status, 400);
  assert.equal((await rest('/v1/presence/t1/room.a?limit=0')).status, 400);
  assert.equal((await rest('/v1/presence/t1/room.a?limit=5000')).status, 400);
});

test('presence config: maxMemberDataBytes bounds member data, eventThreshold switches watchers to batches', async () => {
  const d2 = await mkdtemp(join(tmpdir(), 'fps-presence-cfg-'));
  const r = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: d2,
    logLevel: 'silent',
    quic: { enabled: false },
    presence: { maxMemberDataBytes: 64, eventThreshold: 2, batchIntervalMs: 20 },
  });
  try {
    const t = await issueToken(r.httpUrl, { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: [], allow_channels_sub: ['room.#'] }] });
    const watcher = await connectWs(r.wsUrl, t);
    const member = await connectWs(r.wsUrl, t);
    open.push(watcher, member);
    member.sendText(`PRESENCE:JOIN:t1:room.cfg {"clientId":"big","data":"${'x'.repeat(70)}"}`);
    assert.equal(await member.nextText(), 'ERR:payload_too_large:PRESENCE:JOIN:t1:room.cfg');
    member.sendText(`PRESENCE:JOIN:t1:room.cfg {"clientId":"small","data":"${'x'.repeat(40)}"}`);
    assert.equal(await member.nextText(), 'OK:PRESENCE:JOIN:t1:room.cfg');
    watcher.sendText('PRESENCE:WATCH:t1:room.cfg');
    assert.equal(await watcher.nextText(), 'OK:PRESENCE:WATCH:t1:room.cfg');
    // Members 2 and 3: the second is at the threshold (one event), the third is above it (a batch).
    for (const id of ['m2', 'm3']) {
      const c = await connectWs(r.wsUrl, t);
      open.push(c);
      c.sendText(`PRESENCE:JOIN:t1:room.cfg {"clientId":"${id}"}`);
      assert.equal(await c.nextText(), 'OK:PRESENCE:JOIN:t1:room.cfg');
    }
    const first = JSON.parse((await watcher.nextText()).split(' ').slice(1).join(' ')) as Record<string, unknown>;
    assert.deepEqual(first, { type: 'join', clientId: 'm2', count: 2 });
    const second = JSON.parse((await watcher.nextText()).split(' ').slice(1).join(' ')) as Record<string, unknown>;
    assert.deepEqual(second, { type: 'batch', joined: 1, left: 0, count: 3 });
  } finally {
    await r.close({ graceMs: 0 });
    await rm(d2, { recursive: true, force: true });
  }
});

test('a gateway connection holds several client ids in one channel with "add"; LEAVE by client id or all', async () => {
  const gw = await client();
  for (const id of ['g1', 'g2', 'g3']) {
    gw.sendText(`PRESENCE:JOIN:t1:room.gw {"clientId":"${id}","add":true}`);
    assert.equal(await gw.nextText(), 'OK:PRESENCE:JOIN:t1:room.gw');
  }
  const ids = async (): Promise<string[]> => ((await rest('/v1/presence/t1/room.gw')).json.members as Array<{ clientId: string }>).map((m) => m.clientId);
  assert.deepEqual(await ids(), ['g1', 'g2', 'g3']);
  gw.sendText('PRESENCE:LEAVE:t1:room.gw {"clientId":"g2"}');
  assert.equal(await gw.nextText(), 'OK:PRESENCE:LEAVE:t1:room.gw');
  assert.deepEqual(await ids(), ['g1', 'g3']);
  gw.sendText('PRESENCE:JOIN:t1:room.gw {"clientId":"g4","add":"yes"}');
  assert.equal(await gw.nextText(), 'ERR:bad_command:PRESENCE:JOIN:t1:room.gw');
  // A JOIN without add makes the connection that one id again.
  gw.sendText('PRESENCE:JOIN:t1:room.gw {"clientId":"g5"}');
  assert.equal(await gw.nextText(), 'OK:PRESENCE:JOIN:t1:room.gw');
  assert.deepEqual(await ids(), ['g5']);
  gw.sendText('PRESENCE:JOIN:t1:room.gw {"clientId":"g6","add":true}');
  assert.equal(await gw.nextText(), 'OK:PRESENCE:JOIN:t1:room.gw');
  gw.sendText('PRESENCE:LEAVE:t1:room.gw');
  assert.equal(await gw.nextText(), 'OK:PRESENCE:LEAVE:t1:room.gw');
  assert.deepEqual(await ids(), []);
});
