// `fastpubsub ping`: measures each edge's `GET /ping` latency and names the fastest.
import { discoverEdges, parseEdge, probeEdge, type Edge } from '@fastpubsub/client/node';
import { UsageError, positiveNumber } from '../args.js';
import { parseFlags } from '@fastpubsub/core';

const USAGE = `Usage: fastpubsub ping [options] URL...

Probes each edge's GET /ping (body must be 'pong', 3 s timeout) and prints its latency; the
fastest is marked. URL is an edge (https://host, http://127.0.0.1:7700, host:port).

Options:
  --discovery URL   also probe the edges listed by a discovery document {"edges":[…]}
  --count N         probes per edge (default 3); the minimum is reported
  --timeout MS      per-probe timeout (default 3000)
  --json            one JSON object: {"edges":[{url, ok, rtt_ms, error}], "fastest"}
  -h, --help        show this help

Exit codes: 0 at least one edge answered, 1 none did, 2 usage error.
`;

interface Result {
  url: string;
  ok: boolean;
  rtt_ms?: number;
  error?: string;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    { args: argv, allowPositionals: true, strict: true, options: {
      discovery: { type: 'string' },
      count: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    } },
  );
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const count = positiveNumber('count', v.count, true) ?? 3;
  const timeoutMs = positiveNumber('timeout', v.timeout, true) ?? 3000;
  if (positionals.length === 0 && v.discovery === undefined) throw new UsageError('give at least one edge URL (or --discovery URL)');
  const edges: Edge[] = [];
  for (const p of positionals) {
    try {
      edges.push(parseEdge(p));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  }
  if (v.discovery !== undefined) {
    try {
      edges.push(...(await discoverEdges(v.discovery)));
    } catch (err) {
      process.stderr.write(`fastpubsub ping: ${err instanceof Error ? err.message : String(err)}\n`);
      if (edges.length === 0) return 1;
    }
  }
  const results: Result[] = await Promise.all(
    edges.map(async (edge) => {
      let best: number | undefined;
      let error: string | undefined;
      for (let i = 0; i < count; i++) {
        const p = await probeEdge(edge, { timeoutMs });
        if (p.ok) best = Math.min(best ?? Infinity, p.rttMs!);
        else error = p.error;
      }
      return best === undefined ? { url: edge.httpUrl, ok: false, error: error ?? 'failed' } : { url: edge.httpUrl, ok: true, rtt_ms: Math.round(best * 100) / 100 };
    }),
  );
  const ok = results.filter((r) => r.ok);
  const fastest = ok.length === 0 ? undefined : ok.reduce((a, b) => (a.rtt_ms! <= b.rtt_ms! ? a : b));
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ edges: results, fastest: fastest?.url ?? null })}\n`);
  } else {
    const width = Math.max(...results.map((r) => r.url.length));
    for (const r of results) {
      const what = r.ok ? `${r.rtt_ms!.toFixed(2).padStart(9)} ms` : `   failed: ${r.error}`;
      process.stdout.write(`${r.url.padEnd(width)}  ${what}${r === fastest ? '  ← fastest' : ''}\n`);
    }
  }
  if (fastest === undefined) {
    process.stderr.write('fastpubsub ping: no edge answered pong\n');
    return 1;
  }
  return 0;
}

// Structurally main.ts's Command (importing it would be an import cycle; see relay.ts).
export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'measure edge latencies (GET /ping) and pick the fastest',
  async run(argv) {
    try {
      return await run(argv);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`fastpubsub ping: ${err.message}\nRun 'fastpubsub ping --help' for usage.\n`);
      return 2;
    }
  },
};
