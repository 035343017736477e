// Ticket verification cost at a PoP: a first handshake with a token (Ed25519 signature, claim
// checks, grant compilation) and a repeated one (memoised by token text), plus the token size.
//
//   node --conditions=development --import tsx packages/control/bench/verify.ts [--tokens 3000]
import { SignedTicketState } from '@fastpubsub/testkit/relay';
import { newKeyRecord, signTicket } from '../src/keys.js';
import { arg } from './stats.js';

const n = Number(arg('tokens', '3000'));
const key = await newKeyRecord(Date.now());
const state = new SignedTicketState();
state.apply({ type: 'snapshot', state: { rev: 1, keys: [key.publicJwk], revoked: [], expiry: [], limits: {}, overQuota: [] } });
const right = { tenant_grants: [{ tenant_ids: ['t1'], allow_channels_pub: ['a.#'], allow_channels_sub: ['a.#'] }], allow_ip_masks: [], allow_regions: [], allowed_ws_origin: [] };
const tokens: string[] = [];
for (let i = 0; i < n; i++) {
  const jti = i.toString(16).padStart(32, '0');
  const expMs = Date.now() + 3600_000;
  tokens.push(`AT_${jti}_${await signTicket(key, { jti, iat: Math.floor(Date.now() / 1000), exp: Math.ceil(expMs / 1000), exp_ms: expMs, right })}`);
}
const ctx = { ip: '127.0.0.1', region: 'LOCAL' };
let t = performance.now();
for (const tok of tokens) state.check(tok, ctx, Date.now());
const cold = ((performance.now() - t) / n) * 1000;
t = performance.now();
for (let r = 0; r < 10; r++) for (const tok of tokens) state.check(tok, ctx, Date.now());
const warm = ((performance.now() - t) / (10 * n)) * 1000;
process.stdout.write(`token ${tokens[0]?.length} chars; verify first use ${cold.toFixed(1)} µs (${Math.round(1e6 / cold)}/s per core), repeated ${warm.toFixed(2)} µs\n`);
