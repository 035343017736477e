// deploy/grafana/fastpubsub-relays.json stays a working dashboard: its structure is what Grafana
// loads (unique panel ids, a 24-column grid without overlaps, targets with refIds and a
// datasource variable that exists), every PromQL expression parses (`promtool check rules` on a
// rules file made of them, Grafana's $-macros replaced by plain values), and every metric and
// `by (…)` label it uses is on the /metrics of a real relay in a two-relay mesh with a control plane.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevCluster, type DevCluster } from '../src/commands/dev-cluster.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DASHBOARD = join(ROOT, 'deploy/grafana/fastpubsub-relays.json');
/** Labels Prometheus adds at scrape time (or histogram buckets carry), not the relay. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  datasource?: { uid?: string };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  title?: string;
  uid?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Array<{ name: string; type: string }> };
};
const panels = dashboard.panels ?? [];
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));

/** Grafana's variables and macros, replaced by values Prometheus accepts. */
function plain(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$instance', '.*');
}

let cluster: DevCluster | undefined;
let dir = '';
after(async () => {
  await cluster?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

test('the dashboard has the structure Grafana loads', () => {
  assert.ok(dashboard.title !== undefined && dashboard.uid !== undefined && typeof dashboard.schemaVersion === 'number');
  assert.ok(panels.length >= 10, `panels: ${panels.length}`);
  const variables = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
  assert.ok(variables.has('datasource') && variables.has('instance'));
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of panels) {
    const where = `panel ${String(p.id)} "${p.title ?? ''}"`;
    assert.ok(Number.isInteger(p.id) && !ids.has(p.id as number), `${where}: ids are unique integers`);
    ids.add(p.id as number);
    assert.ok(typeof p.title === 'string' && p.title !== '', `${where}: a title`);
    assert.ok(['row', 'stat', 'timeseries'].includes(p.type ?? ''), `${where}: type ${String(p.type)}`);
    const g = p.gridPos;
    assert.ok(g !== undefined && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${where}: on the 24-column grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${where}: overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
    if (p.type === 'row') continue;
    assert.equal(p.datasource?.uid, '${datasource}', `${where}: uses the datasource variable`);
    const targets = p.targets ?? [];
    assert.ok(targets.length > 0, `${where}: has queries`);
    assert.equal(new Set(targets.map((t) => t.refId)).size, targets.length, `${where}: refIds are unique`);
    for (const t of targets) assert.ok(typeof t.expr === 'string' && t.expr.trim() !== '', `${where}: query ${String(t.refId)} has an expression`);
  }
});

test('every dashboard expression parses (promtool check rules)', async () => {
  assert.ok(existsSync('/usr/bin/promtool'), '/usr/bin/promtool is missing: apt-get install prometheus');
  dir = await mkdtemp(join(tmpdir(), 'fps-dashboard-'));
  const rules = ['groups:', '  - name: dashboard', '    rules:'];
  exprs.forEach((e, i) => rules.push(`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(plain(e))}`));
  writeFileSync(join(dir, 'dashboard-rules.yml'), rules.join('\n') + '\n');
  const r = spawnSync('/usr/bin/promtool', ['check', 'rules', join(dir, 'dashboard-rules.yml')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  // A broken expression does fail: the check can fail.
  writeFileSync(join(dir, 'broken.yml'), 'groups:\n  - name: b\n    rules:\n      - record: b:x\n        expr: "sum by (instance (rate(x[5m]))"\n');
  assert.notEqual(spawnSync('/usr/bin/promtool', ['check', 'rules', join(dir, 'broken.yml')], { timeout: 60_000 }).status, 0);
});

test('every metric and grouping label the dashboard uses is on a relay /metrics', { timeout: 90_000 }, async () => {
  cluster = await startDevCluster({ nodes: [{ id: 'a' }, { id: 'b' }], links: [{ a: 'a', b: 'b', delayMs: 5 }] }, { control: true, logLevel: 'silent', mesh: { probeIntervalMs: 100 } });
  const relay = cluster.nodes.get('a')!;
  let text = '';
  const deadline = Date.now() + 30_000;
  // The mesh gauges appear once a link is up.
  while (!/^fastpubsub_mesh_link_up\{/m.test(text)) {
    assert.ok(Date.now() < deadline, `no mesh link metrics on ${relay.httpUrl}/metrics`);
    await new Promise((r) => setTimeout(r, 300));
    text = await (await fetch(`${relay.httpUrl}/metrics`)).text();
  }
  const labelsOf = new Map<string, Set<string>>();
  const sampled = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1] as string, m[2] as string];
    const names = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    for (const n of names) labelsOf.set(n, new Set());
  }
  for (const m of text.matchAll(/^([a-z_:]+)\{([^}]*)\}/gm)) {
    sampled.add(m[1] as string);
    const set = labelsOf.get(m[1] as string);
    for (const l of (m[2] as string).matchAll(/(\w+)="/g)) set?.add(l[1] as string);
  }
  const missing: string[] = [];
  let labelChecks = 0;
  for (const e of exprs) {
    const metrics = [...e.matchAll(/\b(fastpubsub_[a-z_]+)/g)].map((m) => m[1] as string);
    for (const metric of metrics) if (!labelsOf.has(metric)) missing.push(`${metric} (in ${e})`);
    const grouping = [...e.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => (m[1] as string).split(',').map((s) => s.trim()));
    for (const label of grouping) {
      // A counter nothing has incremented yet has no labelled series to check against.
      if (SCRAPE_LABELS.has(label) || !metrics.some((metric) => sampled.has(metric))) continue;
      labelChecks++;
      if (!metrics.some((metric) => labelsOf.get(metric)?.has(label))) missing.push(`label ${label} on ${metrics.join(', ')} (in ${e})`);
    }
  }
  assert.deepEqual(missing, [], 'used by the dashboard but not exported by a relay');
  assert.ok(labelChecks >= 5, `grouping labels checked: ${labelChecks}`);
});
