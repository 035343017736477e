// Pure parts of bench:loss (nft rule text, flags, table, target check), and a short smoke run
// inside a real namespace when running as root (skipped otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RowResult } from '../fanout/harness.js';
import { listNetns, netnsName, nftLossScript, parseDropCounter } from './netns.js';
import { LossUsageError, parseLossArgs, runBudgetMs } from './options.js';
import { fmtDelivered, quicTargetChecks, renderLossTable, renderTargetChecks } from './table.js';

test('nft script replaces the loss rule atomically, with no rule at 0 %', () => {
  assert.equal(nftLossScript(0), 'table inet fpsloss\ndelete table inet fpsloss\n');
  assert.equal(
    nftLossScript(5),
    [
      'table inet fpsloss',
      'delete table inet fpsloss',
      'table inet fpsloss {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      '    iif "lo" numgen random mod 100 < 5 counter drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  for (const bad of [-1, 101, 2.5, Number.NaN]) assert.throws(() => nftLossScript(bad), RangeError);
  assert.equal(netnsName(42), 'fps-loss-42');
});

test('drop counter is read from nft list output', () => {
  const listed = 'table inet fpsloss {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n' +
    '\t\tiif "lo" numgen random mod 100 < 10 counter packets 1289 bytes 99999 drop\n\t}\n}\n';
  assert.equal(parseDropCounter(listed), 1289);
  assert.equal(parseDropCounter(''), 0);
});

test('flags: defaults, --quick, --only order, errors', () => {
  const d = parseLossArgs([], '/x.md');
  assert.deepEqual(d.loss, [0, 1, 5, 10]);
  assert.deepEqual(d.brokers, ['quic', 'ws', 'nats', 'redis']);
  assert.equal(d.rate, 1000);
  assert.equal(d.payloadBytes, 256);
  assert.equal(d.durationMs, 3000);
  assert.equal(d.out, '/x.md');
  const q = parseLossArgs(['--quick', '--only', 'redis,ws', '--loss', '10,0'], '/x.md');
  assert.deepEqual(q.brokers, ['ws', 'redis'], 'table order, not flag order');
  assert.deepEqual(q.loss, [10, 0], 'run order as given');
  assert.equal(q.durationMs, 500);
  assert.equal(q.out, undefined, '--quick writes no file');
  assert.ok(runBudgetMs(q) > 0);
  for (const bad of [['--loss', '1.5'], ['--loss', '101'], ['--loss', ''], ['--only', 'kafka'], ['--rate', '0'], ['--bogus']]) {
    assert.throws(() => parseLossArgs(bad, '/x.md'), LossUsageError, bad.join(' '));
  }
});

function row(broker: RowResult['broker'], p99Ms: number, delivered = 3000): RowResult {
  return {
    broker, scenario: 'rate-f1', published: 3000, expected: 3000, delivered, deliveredPerSec: delivered / 3,
    p50Ms: 0.5, p90Ms: 1, p99Ms, p999Ms: p99Ms * 2, maxMs: p99Ms * 3,
    brokerCpuPercent: 1, brokerRssMb: 1, slowConsumerDelta: 0, genCpuPercent: 1,
  };
}

test('loss table: one row per (loss, scenario, broker), labels and delivered/expected', () => {
  const rows = [
    { lossPct: 10, scenarioLabel: 'fan-out 1', result: row('fastpubsub-quic', 7.25) },
    { lossPct: 10, scenarioLabel: 'fan-out 1', result: row('redis', 2300, 2990) },
  ];
  const t = renderLossTable(rows).split('\n');
  assert.equal(t.length, 4);
  assert.match(t[0]!, /^\| loss \| scenario +\| broker +\| +delivered\/expected \| p50 ms \| p90 ms \| p99 ms \| p99\.9 ms \| max ms \|$/);
  assert.match(t[2]!, /\| 10 % +\| fan-out 1 +\| FastPubSub QUIC edge +\| +3,000\/3,000 \| +0\.50 \| +1\.00 \| +7\.25 \| +14\.5 \| +21\.8 \|/);
  assert.match(t[3]!, /Redis .*2,990\/3,000 \(99\.7 %\) .*\| +2,300 \| +4,600 \| +6,900 \|$/);
  assert.equal(fmtDelivered(row('nats', 1)), '3,000/3,000');

  const checks = quicTargetChecks([...rows, { lossPct: 10, scenarioLabel: 'fan-out 10', result: row('fastpubsub-quic', 20) }]);
  assert.deepEqual(checks.map((c) => [c.scenarioLabel, c.met]), [['fan-out 1', true], ['fan-out 10', false]]);
  assert.match(renderTargetChecks(checks), /fan-out 10: 20\.0 ms \(target <= 15 ms, everything delivered: NOT met\)/);
  assert.match(renderTargetChecks([]), /not measured/);
});

const root = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['netns', 'list']).status === 0;
test('smoke: bench:loss --quick inside a namespace prints the table and removes the namespace', {
  timeout: 90_000,
}, () => {
  // Never skipped: a run without root or `ip` fails here, naming what is missing.
  assert.ok(root, 'bench:loss needs root (ip netns, nft): run the tests as root');
  assert.ok(hasIp, '`ip netns` is unavailable: apt-get install iproute2');
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', main,
    '--quick', '--loss', '1', '--only', 'quic,ws,redis', '--duration', '0.3', '--warmup', '0.1', '--stall-fill', '0.2', '--drain', '5'],
  { encoding: 'utf8', timeout: 80_000 });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr.slice(-3000)}`);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('| 1 %'));
  // 3 scenarios per broker; the QUIC row is skipped (with a note) on a relay without a QUIC edge.
  const quicSkipped = /QUIC edge row skipped/.test(r.stderr);
  assert.equal(lines.length, quicSkipped ? 6 : 9, r.stdout);
  for (const l of lines) {
    const m = /(\d[\d,]*)\/(\d[\d,]*)/.exec(l);
    assert.ok(m !== null && m[1] === m[2], `everything delivered: ${l}`);
  }
  const ns = /namespace (fps-loss-\d+) created/.exec(r.stderr)?.[1];
  assert.ok(ns !== undefined, r.stderr);
  assert.ok(!listNetns().includes(ns), `${ns} removed`);
});

test('not root: a clear message, exit 2', { skip: root ? 'running as root' : false }, () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', main, '--quick'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /must run as root/);
});
