// With tls configured, one port serves https:// and wss://. The certificate is generated here
// with openssl (self-signed for 127.0.0.1), and clients trust exactly that certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startRelay, type Relay } from '@fastpubsub/relay';
import { MASTER_TOKEN, tokenBody, within } from '@fastpubsub/testkit/relay';

let dir: string;
let relay: Relay;
let ca: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fps-node-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore', timeout: 30_000 },
  );
  ca = await readFile(certFile);
  relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    masterToken: MASTER_TOKEN,
    dataDir: join(dir, 'data'),
    logLevel: 'silent',
    tls: { certFile, keyFile },
  });
});

after(async () => {
  await relay?.close({ graceMs: 0 });
  await rm(dir, { recursive: true, force: true });
});

function httpsCall(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${relay.httpUrl}${path}`,
      {
        method,
        ca,
        timeout: 5000,
        headers: payload === undefined ? {} : { authorization: `Bearer ${MASTER_TOKEN}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

test('the relay reports https:// and wss:// URLs', () => {
  assert.equal(relay.httpUrl, `https://127.0.0.1:${relay.port}`);
  assert.equal(relay.wsUrl, `wss://127.0.0.1:${relay.port}/ws`);
});

test('https: /ping and get-token work with the generated CA', async () => {
  const ping = await httpsCall('GET', '/ping');
  assert.deepEqual(ping, { status: 200, text: 'pong' });
  const issued = await httpsCall('POST', '/v1/get-token', tokenBody());
  assert.equal(issued.status, 200, issued.text);
});

test('https: a client that does not trust the certificate is refused', async () => {
  await assert.rejects(fetch(`${relay.httpUrl}/ping`, { signal: AbortSignal.timeout(5000) }));
});

test('wss: handshake, SUB and an own publish on the same port', async () => {
  const issued = await httpsCall('POST', '/v1/get-token', tokenBody());
  const token = (JSON.parse(issued.text) as { token: string }).token;
  const ws = new WebSocket(relay.wsUrl, ['llps.v1', `at.${token}`], { ca, perMessageDeflate: false, handshakeTimeout: 5000 });
  try {
    const messages: Array<{ data: Buffer; binary: boolean }> = [];
    let wake: (() => void) | undefined;
    ws.on('message', (data: Buffer, binary: boolean) => {
      messages.push({ data, binary });
      wake?.();
    });
    const next = (): Promise<{ data: Buffer; binary: boolean }> =>
      within(
        new Promise((resolve) => {
          const take = (): void => {
            const m = messages.shift();
            if (m === undefined) wake = take;
            else resolve(m);
          };
          take();
        }),
        3000,
        'a wss message',
      );
    await within(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'wss open');
    assert.equal(ws.protocol, 'llps.v1');
    ws.send('SUB:t1:a.#');
    assert.equal((await next()).data.toString(), 'OK:SUB:t1:a.#');
    ws.send(Buffer.from('0002' + '7431' + '0003' + '612e62' + '7a7a', 'hex')); // v1, t1, a.b, "zz"
    const delivery = await next();
    assert.equal(delivery.binary, true);
    assert.equal(delivery.data.toString('hex'), '01' + '00027431' + '0003612e62' + '00000002' + '7a7a' + '0001' + '0003612e23');
  } finally {
    ws.terminate();
  }
});
