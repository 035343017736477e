import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, appendFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import {
  EmbeddedTokenStore,
  MemoryTokenStore,
  parseAccessToken,
  TokenService,
  type TokenRecord,
  type TokenStore,
} from '../src/auth/index.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 1, 0, 0, 0);
const ctx = { ip: '127.0.0.1', region: 'EU' };

function issueBody(expiresAtMs: number, right: Record<string, unknown> = {}): unknown {
  return {
    right: {
      tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }],
      allow_ip_masks: [],
      allow_regions: [],
      allowed_ws_origin: [],
      expires_at: new Date(expiresAtMs).toISOString(),
      ...right,
    },
    created_by: 'test',
  };
}

function setup(store: TokenStore = new MemoryTokenStore()): { svc: TokenService; clock: { now: number } } {
  const clock = { now: T0 };
  return { svc: new TokenService({ store, now: () => clock.now }), clock };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof FpsError && e.code === code);
}

describe('TokenService', () => {
  it('issue → verify → refresh → revoke → verify fails (check 20)', async () => {
    const { svc, clock } = setup();
    const { token, record } = await svc.issue(issueBody(T0 + HOUR));
    const parsed = parseAccessToken(token);
    assert.match(parsed?.id ?? '', /^[0-9a-f]{32}$/);
    assert.match(parsed?.secret ?? '', /^[0-9a-f]{32}$/);
    assert.equal(record.id, parsed?.id);
    assert.ok(!JSON.stringify(record).includes(parsed?.secret ?? 'x'), 'the secret is never stored');

    const ticket = await svc.verify(token, ctx);
    assert.equal(ticket.tokenId, record.id);
    assert.equal(ticket.canPublish('t1', 'a.b'), true);
    assert.equal(ticket.canSubscribe('t1', '#'), false);

    const refreshed = await svc.refresh({ token_id: record.id, expires_at: new Date(T0 + 20 * HOUR).toISOString() });
    assert.equal(refreshed.new_expires_at, new Date(T0 + 20 * HOUR).toISOString());
    assert.equal(typeof refreshed.message, 'string');
    clock.now = T0 + 2 * HOUR; // past the original expiry, inside the refreshed one
    assert.equal((await svc.verify(token, ctx)).expiresAtMs, T0 + 20 * HOUR);

    const seen: string[] = [];
    const off = svc.onRevoked((id) => seen.push(id));
    assert.equal(typeof (await svc.revoke({ token })).message, 'string');
    assert.deepEqual(seen, [record.id]);
    await rejectsWith(svc.verify(token, ctx), ErrorCode.TokenRevoked);
    assert.equal((await svc.revoke({ token })).message, 'token already revoked');
    assert.deepEqual(seen, [record.id], 'idempotent revoke notifies once');
    off();
    await rejectsWith(svc.refresh({ token_id: record.id, expires_at: new Date(T0 + 3 * HOUR).toISOString() }), ErrorCode.BadRequest);
  });

  it('verify: absent, malformed, unknown and wrong-secret tokens are Unauthorized', async () => {
    const { svc } = setup();
    const { token } = await svc.issue(issueBody(T0 + HOUR));
    const { id } = parseAccessToken(token) as { id: string };
    await rejectsWith(svc.verify(undefined, ctx), ErrorCode.Unauthorized);
    await rejectsWith(svc.verify('', ctx), ErrorCode.Unauthorized);
    await rejectsWith(svc.verify('Bearer x', ctx), ErrorCode.Unauthorized);
    await rejectsWith(svc.verify(`AT_${'0'.repeat(32)}_${'0'.repeat(32)}`, ctx), ErrorCode.Unauthorized);
    await rejectsWith(svc.verify(`AT_${id}_${'0'.repeat(32)}`, ctx), ErrorCode.Unauthorized);
    await rejectsWith(svc.verify(`AT_${id}_short`, ctx), ErrorCode.Unauthorized);
  });

  it('expiry follows the injected clock; expired tokens cannot be refreshed', async () => {
    const { svc, clock } = setup();
    const { token, record } = await svc.issue(issueBody(T0 + HOUR));
    clock.now = T0 + HOUR - 1;
    await svc.verify(token, ctx);
    clock.now = T0 + HOUR;
    await rejectsWith(svc.verify(token, ctx), ErrorCode.TokenExpired);
    await rejectsWith(
      svc.refresh({ token_id: record.id, expires_at: new Date(clock.now + HOUR).toISOString() }),
      ErrorCode.BadRequest,
    );
    await rejectsWith(svc.refresh({ token_id: 'nope', expires_at: new Date(clock.now + HOUR).toISOString() }), ErrorCode.NotFound);
    await rejectsWith(svc.revoke({ token: 'AT_nope_x' }), ErrorCode.NotFound);
    await rejectsWith(svc.revoke({ token: `AT_${record.id}_wrong` }), ErrorCode.NotFound);
  });

  it('issue rejects 25 h ahead (check 19) and missing created_by', async () => {
    const { svc } = setup();
    await rejectsWith(svc.issue(issueBody(T0 + 25 * HOUR)), ErrorCode.BadRequest);
    await rejectsWith(svc.issue({ right: (issueBody(T0 + HOUR) as { right: unknown }).right }), ErrorCode.BadRequest);
  });

  it('restrictions give Forbidden; absent Origin passes', async () => {
    const { svc } = setup();
    const { token } = await svc.issue(
      issueBody(T0 + HOUR, { allow_ip_masks: ['10.0.0.0/8'], allow_regions: ['eu'], allowed_ws_origin: ['https://a.example'] }),
    );
    await svc.verify(token, { ip: '::ffff:10.1.1.1', region: 'EU' });
    await svc.verify(token, { ip: '10.1.1.1', region: 'EU', origin: 'https://a.example' });
    await rejectsWith(svc.verify(token, { ip: '127.0.0.1', region: 'EU' }), ErrorCode.Forbidden);
    await rejectsWith(svc.verify(token, { ip: '10.1.1.1', region: 'US' }), ErrorCode.Forbidden);
    await rejectsWith(svc.verify(token, { ip: '10.1.1.1', region: 'EU', origin: 'https://b.example' }), ErrorCode.Forbidden);
  });

  it('uses the injected random source for ids and secrets', async () => {
    let n = 0;
    const svc = new TokenService({ store: new MemoryTokenStore(), now: () => T0, random: (k) => new Uint8Array(k).fill(++n) });
    const { token } = await svc.issue(issueBody(T0 + HOUR));
    assert.equal(token, `AT_${'01'.repeat(16)}_${'02'.repeat(16)}`);
  });

  it('a second service on the same store sees tokens via start() and via store fallback', async () => {
    const store = new MemoryTokenStore();
    const a = setup(store).svc;
    const { token: t1 } = await a.issue(issueBody(T0 + HOUR));
    const b = setup(store).svc;
    await b.start();
    await b.verify(t1, ctx);
    const { token: t2 } = await a.issue(issueBody(T0 + HOUR));
    await b.verify(t2, ctx); // cache miss → store.get
  });
});

describe('TokenService: token rights (contract §11.7)', () => {
  it('stores the rates as applied at mint time, logs tokens minted without them, and a later default leaves them alone', async () => {
    const store = new MemoryTokenStore();
    const lines: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
    const logger = {
      debug: () => undefined,
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }),
      warn: () => undefined,
      error: () => undefined,
      child: () => logger,
    };
    const svc = new TokenService({ store, now: () => T0, logger, rateDefaults: { ingressKbPerSec: 8, egressKbPerSec: 64 } });
    const omitted = await svc.issue(issueBody(T0 + HOUR));
    assert.equal(omitted.record.right.ingress_kb_per_sec, 8);
    assert.equal(omitted.record.right.egress_kb_per_sec, 64);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.fields?.['tokenId'], omitted.record.id);
    const explicit = await svc.issue(issueBody(T0 + HOUR, { ingress_kb_per_sec: 100, egress_kb_per_sec: 200, allow_protocols: ['WebSocket'] }));
    assert.equal(lines.length, 1, 'a token with both rates is not logged');
    assert.deepEqual(explicit.record.right.allow_protocols, ['websocket']);

    // Another service over the same store with another default: stored values win.
    const later = new TokenService({ store, now: () => T0, rateDefaults: { ingressKbPerSec: 16384, egressKbPerSec: 16384 } });
    const t = await later.verify(omitted.token, ctx);
    assert.equal(t.ingressBytesPerSec, 8 * 1024);
    assert.equal(t.egressBytesPerSec, 64 * 1024);
    const e = await later.verify(explicit.token, ctx);
    assert.equal(e.allowsProtocol('websocket'), true);
    assert.equal(e.allowsProtocol('webtransport'), false);
    assert.equal(e.egressBytesPerSec, 200 * 1024);

    // A server default of 0 is "unlimited", stored as 0.
    const open = new TokenService({ store, now: () => T0, rateDefaults: { ingressKbPerSec: 0, egressKbPerSec: 0 } });
    const u = await open.issue(issueBody(T0 + HOUR));
    assert.equal(u.record.right.egress_kb_per_sec, 0);
    assert.equal((await open.verify(u.token, ctx)).egressBytesPerSec, Infinity);
  });
});

describe('EmbeddedTokenStore', () => {
  async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'fps-tokens-'));
    try {
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('survives close and reopen; issued tokens still verify, revocations persist', async () => {
    await withDir(async (dir) => {
      const s1 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      const svc1 = setup(s1).svc;
      const { token: keep } = await svc1.issue(issueBody(T0 + HOUR));
      const { token: gone } = await svc1.issue(issueBody(T0 + HOUR));
      await svc1.revoke({ token: gone });
      await s1.close();

      const s2 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      assert.equal(s2.size, 2);
      const svc2 = setup(s2).svc;
      await svc2.start();
      await svc2.verify(keep, ctx);
      await rejectsWith(svc2.verify(gone, ctx), ErrorCode.TokenRevoked);
      await s2.close();
    });
  });

  it('ignores a torn temp file and a torn last log line', async () => {
    await withDir(async (dir) => {
      const s1 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      const { token } = await setup(s1).svc.issue(issueBody(T0 + HOUR));
      await s1.close();
      await writeFile(join(dir, 'tokens.log.tmp'), '{"half": ');
      const log = await readFile(join(dir, 'tokens.log'), 'utf8');
      await appendFile(join(dir, 'tokens.log'), log.slice(0, log.length / 2)); // crash mid-append

      const s2 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      assert.equal(s2.size, 1);
      assert.deepEqual(await readdir(dir), ['tokens.log']);
      const svc = setup(s2).svc;
      await svc.verify(token, ctx);
      const { token: t2 } = await svc.issue(issueBody(T0 + HOUR)); // appends after the cleaned log
      await s2.close();
      const s3 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      assert.equal(s3.size, 2);
      await setup(s3).svc.verify(t2, ctx);
      await s3.close();
    });
  });

  it('later lines win, corrupted lines are skipped, and records expired over a day are pruned', async () => {
    await withDir(async (dir) => {
      const rec = (id: string, expiresAtMs: number): TokenRecord => ({
        id,
        secretHash: '00'.repeat(32),
        right: { tenant_grants: [], allow_ip_masks: [], allow_regions: [], allowed_ws_origin: [], expires_at: '' },
        expiresAtMs,
        createdBy: 'x',
        createdAtMs: T0,
        revoked: false,
      });
      const s1 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      await s1.put(rec('old', T0 - 2 * 24 * HOUR));
      await s1.put(rec('recent', T0 - HOUR));
      await s1.put(rec('live', T0 + HOUR));
      await s1.put({ ...rec('live', T0 + 2 * HOUR), revoked: true });
      await s1.close();
      const text = await readFile(join(dir, 'tokens.log'), 'utf8');
      await writeFile(join(dir, 'tokens.log'), text.replace('"recent"', '"recenT"')); // checksum now wrong

      const s2 = await EmbeddedTokenStore.open(dir, { now: () => T0 });
      assert.deepEqual((await s2.list()).map((r) => r.id).sort(), ['live']);
      const live = await s2.get('live');
      assert.equal(live?.revoked, true);
      assert.equal(live?.expiresAtMs, T0 + 2 * HOUR);
      await s2.close();
      await assert.rejects(s2.put(rec('late', T0)), /closed/);
    });
  });
});
