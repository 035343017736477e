// The attack suite: every attack of the threat model (docs/security.md) against a relay in its
// own process on loopback, each with a healthy client measured meanwhile. Bounded: every attack
// has fixed counts and deadlines.
import { credentialGuessing, adversarialPatternsAttack, fragmentAttack, secretsAtRest } from './scenarios-work.js';
import { halfOpenClient, oneTokenFlood, quicNeverAuth, silentTcpFlood } from './scenarios-connections.js';
import { healthyServed, type AttackSizes, type RowResult } from './types.js';

export const ATTACKS: ReadonlyArray<{ name: string; run: (s: AttackSizes) => Promise<RowResult> }> = [
  { name: 'silent-tcp', run: silentTcpFlood },
  { name: 'patterns', run: adversarialPatternsAttack },
  { name: 'fragments', run: fragmentAttack },
  { name: 'quic-no-auth', run: quicNeverAuth },
  { name: 'one-token-flood', run: oneTokenFlood },
  { name: 'half-open', run: halfOpenClient },
  { name: 'credential-guessing', run: credentialGuessing },
  { name: 'secrets-at-rest', run: secretsAtRest },
];

export function formatRow(r: RowResult): string {
  const h = r.healthy;
  const served = healthyServed(h);
  return [
    `## ${r.attack}`,
    `   relay:   ${r.relayDid}  [${r.defended ? 'defended' : 'NOT DEFENDED'}]`,
    `   healthy: ${h.delivered}/${h.sent} delivered, p99 ${h.p99Ms.toFixed(1)} ms, /ping p99 ${h.pingP99Ms.toFixed(1)} ms, ${h.pingFailures} /ping failures  [${served ? 'served' : 'NOT SERVED'}]`,
  ].join('\n');
}

export async function runAttacks(sizes: AttackSizes, only: readonly string[] = [], print: (line: string) => void = console.log): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for (const a of ATTACKS) {
    if (only.length > 0 && !only.includes(a.name)) continue;
    const r = await a.run(sizes);
    print(formatRow(r));
    out.push(r);
  }
  return out;
}
