// npm run attack [-- --small] [-- name ...]: runs the attack suite on loopback and prints, per
// attack, what the relay did and how a healthy client fared. Exits 1 if any attack was not
// defended or the healthy client was not served.
import { ATTACKS, runAttacks } from './suite.js';
import { healthyServed } from './types.js';

const args = process.argv.slice(2);
const small = args.includes('--small');
const only = args.filter((a) => !a.startsWith('--'));
for (const name of only) {
  if (!ATTACKS.some((a) => a.name === name)) {
    console.error(`unknown attack ${name}; known: ${ATTACKS.map((a) => a.name).join(', ')}`);
    process.exit(2);
  }
}
console.log(`FastPubSub attack suite (${small ? 'reduced sizes' : 'full sizes'}), loopback only`);
const rows = await runAttacks({ small }, only);
const bad = rows.filter((r) => !r.defended || !healthyServed(r.healthy));
console.log(bad.length === 0 ? `\nall ${rows.length} attacks defended; the healthy client was served throughout` : `\n${bad.length} of ${rows.length} attacks FAILED`);
process.exit(bad.length === 0 ? 0 : 1);
