// GET /ping while the relay drains (graceful shutdown): it must fail the edge-selection check
// (any non-2xx, contract §7) so clients pick another edge, with a JSON error saying why.
// Once draining, the relay no longer accepts connections, so the ping rides a keep-alive
// connection that had a request in flight when the shutdown began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '@fastpubsub/relay';
import { MASTER_TOKEN, connectWs, issueToken, within } from '@fastpubsub/testkit/relay';

/** Reads from `socket` until `done(text)` holds, for at most `ms`. */
function readUntil(socket: Socket, done: (text: string) => boolean, ms: number): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        if (!done(text)) return;
        socket.off('data', onData);
        resolve(text);
      };
      socket.on('data', onData);
      socket.once('error', reject);
    }),
    ms,
    'HTTP responses',
  );
}

test('GET /ping answers 503 shutting_down JSON while the relay drains', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fps-ping-drain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, masterToken: MASTER_TOKEN, dataDir: dir, logLevel: 'silent', quic: { enabled: false } });
  t.after(() => relay.close({ graceMs: 0 })); // the shutdown below when it began (close is idempotent)

  // A connected client keeps the relay draining (it is sent RECONNECT and served for the grace period).
  const client = await connectWs(relay.wsUrl, await issueToken(relay.httpUrl));
  t.after(() => client.ws.close());

  const socket = connect(relay.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const before = readUntil(socket, (s) => s.includes('pong'), 3000);
  socket.write('GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n');
  assert.match(await before, /^HTTP\/1\.1 200 /, 'a running relay answers pong');

  // A request in flight (headers sent, body not yet) keeps this connection open through the shutdown.
  const body = '{}';
  socket.write(`POST /v1/get-token HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = relay.close({ graceMs: 3000 });
  assert.equal(await client.nextText(2000), 'RECONNECT', 'the relay is draining');

  const after = readUntil(socket, (s) => /HTTP\/1\.1 503[\s\S]*\r\n\r\n\{[^}]*\}/.test(s), 3000);
  socket.write(body + 'GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n');
  const text = await after;
  const ping = text.slice(text.lastIndexOf('HTTP/1.1 '));
  assert.match(ping, /^HTTP\/1\.1 503 /);
  assert.match(ping, /content-type: application\/json/i);
  const json = JSON.parse(ping.slice(ping.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
  assert.equal(json.error, 'shutting_down');
  assert.match(json.message, /draining/);

  client.ws.close();
  await within(closing, 10_000, 'relay close');
});
