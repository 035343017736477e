import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FpsError, RELAY_DEFAULTS, resolveRelayConfig } from '@fastpubsub/core';

function problemsOf(input: unknown): string {
  try {
    resolveRelayConfig(input);
  } catch (err) {
    assert.ok(err instanceof FpsError);
    assert.equal(err.code, ErrorCode.ConfigInvalid);
    return err.message;
  }
  assert.fail('config was accepted');
}

test('defaults fill every key that is not given', () => {
  const c = resolveRelayConfig({ masterToken: 'test-master-token-0123456789abcdef' });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 7700 });
  assert.equal(c.region, 'LOCAL');
  assert.equal(c.dataDir, '.fastpubsub/relay');
  assert.equal(c.limits.maxPayloadBytes, 65535);
  assert.equal(c.limits.outboundQueueBytes, 4 * 1024 * 1024);
  assert.equal(c.limits.slowConsumerPolicy, 'drop-oldest');
  assert.equal(c.reconnectGraceMs, 10_000);
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.discovery.edges, ['127.0.0.1:7700']);
  assert.equal(c.tls, undefined);
});

test('given values override defaults, one key at a time inside nested objects', () => {
  const c = resolveRelayConfig({
    masterToken: 'x'.repeat(32),
    listen: { port: 0 },
    limits: { slowConsumerPolicy: 'disconnect', maxSubscriptionsPerConnection: 3 },
    tls: { certFile: 'c.pem', keyFile: 'k.pem' },
  });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 0 });
  assert.equal(c.limits.slowConsumerPolicy, 'disconnect');
  assert.equal(c.limits.maxSubscriptionsPerConnection, 3);
  assert.equal(c.limits.maxConnections, RELAY_DEFAULTS.limits.maxConnections);
  assert.deepEqual(c.tls, { certFile: 'c.pem', keyFile: 'k.pem' });
});

test('an unknown key fails with its full path', () => {
  const msg = problemsOf({ masterToken: 'x'.repeat(32), limits: { maxPayloadByte: 10 } });
  assert.match(msg, /limits\.maxPayloadByte: unknown key/);
  assert.match(problemsOf({ masterToken: 'x'.repeat(32), lsten: {} }), /lsten: unknown key/);
});

test('every problem is listed, not only the first', () => {
  const msg = problemsOf({
    listen: { port: 70000 },
    limits: { slowConsumerPolicy: 'keep-latest' },
    discovery: { edges: [''] },
  });
  assert.match(msg, /masterToken: is required/);
  assert.match(msg, /listen\.port: must be <= 65535/);
  assert.match(msg, /limits\.slowConsumerPolicy: must be one of "drop-oldest", "disconnect"/);
  assert.match(msg, /discovery\.edges\[0\]/);
});

test('an empty master token or a non-object config is rejected', () => {
  assert.match(problemsOf({ masterToken: '' }), /masterToken/);
  assert.match(problemsOf(null), /\(root\): must be object/);
  assert.match(problemsOf({ masterToken: 'x'.repeat(32), tls: { certFile: 'c.pem' } }), /tls\.keyFile: is required/);
});

test('control: optional, strict, urls and token required', () => {
  const base = { masterToken: 'x'.repeat(32) };
  assert.equal(resolveRelayConfig(base).control, undefined);
  const c = resolveRelayConfig({ ...base, control: { urls: ['http://127.0.0.1:7800'], token: 'pop-secret', popId: 'eu-1' } });
  assert.deepEqual(c.control, { urls: ['http://127.0.0.1:7800'], token: 'pop-secret', popId: 'eu-1' });
  assert.match(problemsOf({ ...base, control: { urls: ['http://h:1'] } }), /control\.token: is required/);
  assert.match(problemsOf({ ...base, control: { urls: ['ftp://h'], token: 't' } }), /control\.urls\[0\]/);
  assert.match(problemsOf({ ...base, control: { urls: ['http://h:1'], token: 't', url: 'x' } }), /control\.url: unknown key/);
});

test('quic: defaults derive from the HTTP listen address; strict keys and policies', () => {
  const c = resolveRelayConfig({ masterToken: 'x'.repeat(32), listen: { port: 7700 } });
  assert.equal(c.quic.enabled, true);
  assert.deepEqual(c.quic.listen, { host: '127.0.0.1', port: 7701 });
  assert.equal(c.quic.slowConsumerPolicy, 'drop-oldest');
  assert.equal(c.quic.certFile, undefined);
  const eph = resolveRelayConfig({ masterToken: 'x'.repeat(32), listen: { port: 0 }, quic: { slowConsumerPolicy: 'reset' } });
  assert.equal(eph.quic.listen.port, 0);
  assert.equal(eph.quic.slowConsumerPolicy, 'reset');
  const own = resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { listen: { host: '0.0.0.0', port: 9000 }, certFile: 'c', keyFile: 'k' } });
  assert.deepEqual(own.quic.listen, { host: '0.0.0.0', port: 9000 });
  assert.equal(own.quic.certFile, 'c');
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { slowConsumerPolicy: 'disconnect' } }), /quic\.slowConsumerPolicy/);
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { streamQueueByte: 1 } }), /quic\.streamQueueByte: unknown key/);
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { certFile: 'c' } }), /keyFile/);
});

test('quic: loss-recovery defaults (cwnd floor, 1 ms requested ACK delay) and their validation', () => {
  const c = resolveRelayConfig({ masterToken: 'x'.repeat(32) });
  assert.equal(c.quic.congestion, 'cubic');
  assert.equal(c.quic.minCongestionWindowBytes, 64 * 1024);
  assert.equal(c.quic.ackMaxDelayMs, 1);
  const rfc = resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { congestion: 'bbr', minCongestionWindowBytes: 0, ackMaxDelayMs: 0 } });
  assert.equal(rfc.quic.congestion, 'bbr');
  assert.equal(rfc.quic.minCongestionWindowBytes, 0);
  assert.equal(rfc.quic.ackMaxDelayMs, 0);
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { congestion: 'reno' } as never }), /quic\.congestion/);
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { ackMaxDelayMs: 1.5 } }), /quic\.ackMaxDelayMs/);
  assert.throws(() => resolveRelayConfig({ masterToken: 'x'.repeat(32), quic: { minCongestionWindowBytes: -1 } }), /quic\.minCongestionWindowBytes/);
});

test('mesh: optional; files required; defaults derived from the HTTP address; strict keys', () => {
  const base = { masterToken: 'x'.repeat(32) };
  assert.equal(resolveRelayConfig(base).mesh, undefined);
  const files = { caFile: 'ca.pem', certFile: 'a.pem', keyFile: 'a.key' };
  const m = resolveRelayConfig({ ...base, listen: { port: 7700 }, mesh: files }).mesh!;
  assert.deepEqual(m.listen, { host: '127.0.0.1', port: 7702 });
  assert.equal(m.probeIntervalMs, 100);
  assert.equal(m.deadAfterMs, 200);
  // The dead timer follows a configured probe interval unless it is set too.
  assert.equal(resolveRelayConfig({ ...base, mesh: { ...files, probeIntervalMs: 300 } }).mesh!.deadAfterMs, 600);
  assert.equal(resolveRelayConfig({ ...base, mesh: { ...files, probeIntervalMs: 300, deadAfterMs: 1000 } }).mesh!.deadAfterMs, 1000);
  assert.equal(m.peerExchange, true);
  assert.deepEqual(m.seeds, []);
  assert.deepEqual(m.redundantChannels, []);
  assert.equal(m.advertise, undefined);
  assert.equal(resolveRelayConfig({ ...base, listen: { port: 0 }, mesh: files }).mesh!.listen.port, 0);
  const custom = resolveRelayConfig({ ...base, mesh: { ...files, seeds: ['127.0.0.1:9000'], redundantChannels: ['alerts.#'], peerExchange: false } }).mesh!;
  assert.deepEqual(custom.seeds, ['127.0.0.1:9000']);
  assert.deepEqual(custom.redundantChannels, ['alerts.#']);
  assert.equal(custom.peerExchange, false);
  assert.match(problemsOf({ ...base, mesh: { caFile: 'ca.pem' } }), /mesh\.certFile: is required/);
  assert.match(problemsOf({ ...base, mesh: { ...files, seeds: ['nohost'] } }), /mesh\.seeds\[0\]/);
  assert.match(problemsOf({ ...base, mesh: { ...files, probeInterval: 5 } }), /mesh\.probeInterval: unknown key/);
});

test('hardening limits: defaults on, validated strictly; master tokens need 32 characters', () => {
  const c = resolveRelayConfig({ masterToken: 'x'.repeat(32) });
  assert.equal(c.limits.maxPreAuthConnections, 1024);
  assert.equal(c.limits.handshakeTimeoutMs, 5000);
  assert.equal(c.limits.maxPatternTokens, 16);
  assert.equal(c.quic.authTimeoutMs, 5000);
  assert.equal(c.mesh, undefined);
  assert.equal(resolveRelayConfig({ masterToken: 'x'.repeat(32), limits: { maxConnectionsPerTenant: 7 } }).limits.maxConnectionsPerTenant, 7);
  assert.match(problemsOf({ masterToken: 'x'.repeat(32), limits: { handshakeTimeoutMs: 50 } }), /limits\.handshakeTimeoutMs/);
  assert.match(problemsOf({ masterToken: 'x'.repeat(32), limits: { maxPatternTokens: 0 } }), /limits\.maxPatternTokens/);
  assert.match(problemsOf({ masterToken: 'x'.repeat(31) }), /masterToken: must NOT have fewer than 32 characters/);
});
