// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, the share of
// GC, idle and native code, as a markdown table. Used for docs/performance.md:
//   FPS_RELAY_PROF=/tmp/prof npm run bench:fanout -- --only fastpubsub --fanout 10 --repeat 1
//   node --import tsx bench/profile/summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
if (values.help === true || positionals.length === 0) {
  process.stdout.write('Usage: node --import tsx bench/profile/summary.ts FILE.cpuprofile [--top N]\n');
  process.exit(values.help === true ? 0 : 2);
}
const top = Number(values.top ?? '25');

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  }
  const shorten = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules|bench)\//, '$1/') || '(native)';
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const f = n.callFrame;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const where = f.url === '' ? '' : ` ${shorten(f.url)}:${f.lineNumber + 1}`;
    byFn.set(`${name}${where}`, (byFn.get(`${name}${where}`) ?? 0) + us);
    const fileKey = f.url === '' ? name : shorten(f.url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1');
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - (byFn.get('(idle)') ?? 0);
  const rows = (m: Map<string, number>): string[] =>
    [...m].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, us]) => `| ${k.replaceAll('|', '\\|')} | ${(us / 1000).toFixed(1)} | ${((100 * us) / busy).toFixed(1)} |`);
  process.stdout.write(`\n${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (${((100 * busy) / total).toFixed(1)} %)\n\n`);
  process.stdout.write(`| function (self time) | ms | % of busy |\n|---|---|---|\n${rows(byFn).join('\n')}\n\n`);
  process.stdout.write(`| file or module (self time) | ms | % of busy |\n|---|---|---|\n${rows(byFile).join('\n')}\n`);
}
