// `fastpubsub usage export` against a real control plane: usage reported the way PoPs report it
// (two PoPs, one restarted), exported as CSV and JSON identical to the HTTP export; a tenant
// master token exports its own tenant; bad input exits 2, a refused token 1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControl, type Control } from '@fastpubsub/control';
import { cli, exitWithin, killChildren } from './harness.js';

const OPERATOR = 'usage-cli-operator-token-0123456789abcdef';
let control: Control | undefined;
let dir = '';
after(async () => {
  killChildren();
  await control?.close();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${control!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

test('usage export prints the month per tenant as CSV or JSON, the same as the control plane export', { timeout: 60_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-usage-cli-'));
  control = await startControl({ listen: { host: '127.0.0.1', port: 0 }, operatorToken: OPERATOR, store: { kind: 'embedded', dataDir: dir }, logLevel: 'silent' });
  for (const id of ['beta', 'alpha']) assert.equal((await api('POST', '/v1/tenants', { id })).status, 201);
  const report = (pop: string, boot: string, messages: number): Promise<Response> =>
    api('POST', `/v1/pops/${pop}/usage`, { boot, month: '2026-11', usage: { alpha: { messages, bytes: messages * 10, connectionMs: 90_000 } } });
  assert.equal((await report('pop-a', 'boot1', 7)).status, 200);
  assert.equal((await report('pop-a', 'boot2', 3)).status, 200); // the same PoP after a restart
  assert.equal((await report('pop-b', 'boot1', 5)).status, 200);

  const run = cli(['usage', 'export', '--url', control.url, '--token', OPERATOR, '--month', '2026-11']);
  assert.equal(await exitWithin(run), 0, run.stderr());
  assert.equal(run.stdout(), 'month,tenant,messages,bytes,connection_minutes\r\n2026-11,alpha,15,150,4.5\r\n2026-11,beta,0,0,0\r\n');
  const server = await (await api('GET', '/v1/usage/export?month=2026-11&format=csv')).text();
  assert.equal(run.stdout(), server);

  const mt = ((await (await api('POST', '/v1/tenants/alpha/master-tokens', {})).json()) as { token: string }).token;
  const own = cli(['usage', 'export', '--url', control.url, '--token', mt, '--month', '2026-11', '--tenant', 'alpha', '--format', 'json']);
  assert.equal(await exitWithin(own), 0, own.stderr());
  assert.deepEqual(JSON.parse(own.stdout()), { month: '2026-11', tenants: [{ month: '2026-11', tenant: 'alpha', messages: 15, bytes: 150, connectionMinutes: 4.5 }] });

  const everyone = cli(['usage', 'export', '--url', control.url, '--token', mt, '--month', '2026-11']);
  assert.equal(await exitWithin(everyone), 1);
  assert.match(everyone.stderr(), /403 .*forbidden/);
  const badMonth = cli(['usage', 'export', '--url', control.url, '--token', OPERATOR, '--month', '2026-13']);
  assert.equal(await exitWithin(badMonth), 2);
  assert.match(badMonth.stderr(), /--month must be YYYY-MM/);
  const typo = cli(['usage', 'export', '--url', control.url, '--token', OPERATOR, '--month', '2026-11', '--fromat', 'csv']);
  assert.equal(await exitWithin(typo), 2);
});
