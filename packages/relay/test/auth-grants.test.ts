import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canPublish,
  canSubscribe,
  CompiledRestrictions,
  ipAllowed,
  originAllowed,
  regionAllowed,
  ruleCovers,
  Ticket,
  type TokenRight,
} from '../src/auth/index.js';
import { matchesPattern } from '../src/fanout/index.js';

function right(grants: TokenRight['tenant_grants'], extra: Partial<TokenRight> = {}): TokenRight {
  return { tenant_grants: grants, allow_ip_masks: [], allow_regions: [], allowed_ws_origin: [], expires_at: '', ...extra };
}

describe('grants', () => {
  const r = right([
    { tenant_ids: ['t1', 't2'], allow_channels_pub: ['x.#', 'solo'], allow_channels_sub: ['x.#', 'solo'] },
    { tenant_ids: ['t3'], allow_channels_pub: ['#'], allow_channels_sub: [] },
  ]);

  it('canPublish: exact rules are equal, x.# covers x and below, per tenant', () => {
    for (const ch of ['x', 'x.y', 'x.y.z', 'solo']) assert.equal(canPublish(r, 't1', ch), true, ch);
    for (const ch of ['xy', 'xy.z', 'y.x', 'solo.a', 'sol']) assert.equal(canPublish(r, 't1', ch), false, ch);
    assert.equal(canPublish(r, 't2', 'x.a'), true);
    assert.equal(canPublish(r, 't9', 'x.a'), false, 'a tenant not in any grant');
    assert.equal(canPublish(r, 't3', 'anything.at.all'), true, '# rule');
    assert.equal(canSubscribe(r, 't3', 'a'), false, 'pub rules do not grant sub');
  });

  it('canSubscribe: the pattern must be a subset of one rule', () => {
    for (const p of ['x.#', 'x.y.*', 'x.>', 'x', 'x.y', 'x.*.z', 'x.p*', 'x.y#', 'solo']) {
      assert.equal(canSubscribe(r, 't1', p), true, p);
    }
    for (const p of ['x*.#', '#', '>', '*', '*.y', 'x*', 'solo.#', 'solo.*', 's*', 'xy.#', 'y.x']) {
      assert.equal(canSubscribe(r, 't1', p), false, p);
    }
  });

  it('merges a tenant named in several grants', () => {
    const m = right([
      { tenant_ids: ['t'], allow_channels_pub: ['a'], allow_channels_sub: [] },
      { tenant_ids: ['t'], allow_channels_pub: ['b.#'], allow_channels_sub: [] },
    ]);
    assert.equal(canPublish(m, 't', 'a'), true);
    assert.equal(canPublish(m, 't', 'b.c'), true);
  });

  it('Ticket answers like the grants, memoized, and knows its expiry', () => {
    const t = new Ticket({ id: 'id1', expiresAtMs: 1000, right: r });
    for (let i = 0; i < 3000; i++) assert.equal(t.canPublish('t1', `x.${i % 1500}`), true); // past the memo bound
    assert.equal(t.canPublish('t1', 'y'), false);
    assert.equal(t.canSubscribe('t1', 'x.>'), true);
    assert.equal(t.canSubscribe('t1', '#'), false);
    assert.equal(t.isExpired(999), false);
    assert.equal(t.isExpired(1000), true);
  });
});

// Rules and patterns over a tiny alphabet so subset relations actually occur.
const tok = fc.constantFrom('a', 'b', 'ab');
const base = fc.array(tok, { minLength: 1, maxLength: 3 }).map((t) => t.join('.'));
const rule = fc.oneof(base, base.map((b) => `${b}.#`), fc.constant('#'));
const midTok = fc.constantFrom('a', 'b', 'ab', '*', 'a*');
const lastTok = fc.constantFrom('a', 'b', '*', 'a*', '#', '>', 'a#', 'a>');
const tail = fc.tuple(fc.array(midTok, { maxLength: 2 }), lastTok).map(([m, l]) => [...m, l]);
// Half the patterns extend a rule-like prefix, so accepted ones are common.
const pattern = fc.oneof(
  tail.map((t) => t.join('.')),
  fc.tuple(base, tail).map(([b, t]) => `${b}.${t.join('.')}`),
  base,
);

/** A random channel matched by `p`, built by instantiating each wildcard. */
function instantiate(p: string, pick: (choices: readonly string[]) => string, n: () => number): string {
  const words = ['a', 'b', 'ab', 'ba', 'abc'];
  const out: string[] = [];
  for (const t of p.split('.')) {
    const more = (min: number): void => {
      for (let i = 0, k = min + n(); i < k; i++) out.push(pick(words));
    };
    if (t === '*') out.push(pick(words));
    else if (t === '#') more(0);
    else if (t === '>') more(1);
    else if (t.endsWith('*')) out.push(t.slice(0, -1) + pick(['', 'b', 'xyz']));
    else if (t.endsWith('#') || t.endsWith('>')) {
      out.push(t.slice(0, -1) + pick(['', 'q']));
      more(t.endsWith('>') ? 1 : 0);
    } else out.push(t);
  }
  return out.join('.');
}

describe('grant properties (fast-check)', () => {
  it('a pattern accepted for a rule only matches channels the rule covers', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rule, pattern, fc.array(fc.nat(), { minLength: 64, maxLength: 64 }), (ru, p, seeds) => {
        if (!ruleCovers(ru, p)) return;
        accepted++;
        let i = 0;
        const next = (): number => seeds[i++ % seeds.length] as number;
        for (let k = 0; k < 8; k++) {
          const ch = instantiate(p, (c) => c[next() % c.length] as string, () => next() % 3);
          assert.ok(matchesPattern(p, ch), `generator produced ${ch} not matched by ${p}`);
          assert.ok(ruleCovers(ru, ch), `${p} accepted under ${ru} but matches ${ch}`);
        }
      }),
      { numRuns: 2000 },
    );
    assert.ok(accepted > 100, `too few accepted samples (${accepted}) for the property to mean anything`);
  });

  it('canPublish agrees with reading the rule as a pattern', () => {
    const channel = fc.array(fc.constantFrom('a', 'b', 'ab', 'ba'), { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
    fc.assert(
      fc.property(rule, channel, (ru, ch) => {
        const r = right([{ tenant_ids: ['t'], allow_channels_pub: [ru], allow_channels_sub: [] }]);
        assert.equal(canPublish(r, 't', ch), matchesPattern(ru, ch));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('restrictions', () => {
  it('IP masks: IPv4, IPv6, CIDR, single addresses, IPv4-mapped IPv6', () => {
    const masks = ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'];
    for (const ip of ['10.1.2.3', '192.168.1.7', '::ffff:10.9.9.9', '::ffff:a00:1', '2001:db8::5', '::1', '[::1]', '::FFFF:192.168.1.7']) {
      assert.equal(ipAllowed(masks, ip), true, ip);
    }
    for (const ip of ['11.0.0.1', '192.168.1.8', '2001:db9::1', '::2', '::ffff:11.0.0.1', 'garbage', '']) {
      assert.equal(ipAllowed(masks, ip), false, ip);
    }
    assert.equal(ipAllowed([], 'garbage'), true, 'empty list allows all');
    assert.equal(ipAllowed(['0.0.0.0/0'], '8.8.8.8'), true);
    assert.equal(ipAllowed(['127.0.0.1'], '::ffff:127.0.0.1'), true);
    assert.equal(ipAllowed(['::ffff:127.0.0.1'], '127.0.0.1'), true);
    assert.equal(ipAllowed(['fe80::/10'], 'fe80::1%eth0'), true);
  });

  it('regions: exact and case-insensitive', () => {
    assert.equal(regionAllowed([], 'EU'), true);
    assert.equal(regionAllowed(['EU', 'US'], 'eu'), true);
    assert.equal(regionAllowed(['EU'], 'EUW'), false);
  });

  it('origins: checked only when the request has one (contract §10.10)', () => {
    assert.equal(originAllowed(['https://app.example'], undefined), true);
    assert.equal(originAllowed(['https://app.example'], 'https://APP.example/'), true);
    assert.equal(originAllowed(['https://app.example'], 'https://evil.example'), false);
    assert.equal(originAllowed(['https://app.example'], 'null'), false);
    assert.equal(originAllowed([], 'https://evil.example'), true);
  });

  it('CompiledRestrictions names the first failing check', () => {
    const c = new CompiledRestrictions(
      right([], { allow_ip_masks: ['10.0.0.0/8'], allow_regions: ['EU'], allowed_ws_origin: ['https://a.example'] }),
    );
    assert.equal(c.check({ ip: '10.0.0.1', region: 'EU' }), undefined);
    assert.equal(c.check({ ip: '10.0.0.1', region: 'EU', origin: 'https://a.example' }), undefined);
    assert.equal(c.check({ ip: '11.0.0.1', region: 'EU' }), 'ip');
    assert.equal(c.check({ ip: '10.0.0.1', region: 'US' }), 'region');
    assert.equal(c.check({ ip: '10.0.0.1', region: 'EU', origin: 'https://b.example' }), 'origin');
  });
});
