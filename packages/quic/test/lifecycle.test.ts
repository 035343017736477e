import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QuicError, QuicErrorCode, type QuicCloseInfo, type QuicConnection } from '../src/index.js';
import { ALPN, client, closeAll, once, pair, pki, server } from './helpers.js';

after(closeAll);

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function runNode(file: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, ms: Date.now() - t0 });
    });
  });
}

describe('quic lifecycle', () => {
  it('sees the connection of a process that exits mid-stream close within the idle timeout', async () => {
    const srv = server({ transport: { idleTimeoutMs: 1000, keepAliveIntervalMs: 300 } });
    let bytes = 0;
    const conn = new Promise<QuicConnection>((resolve) =>
      srv.once('connection', (c) => {
        c.on('stream', (st) => st.on('data', (d: Buffer) => (bytes += d.length)));
        resolve(c);
      }),
    );
    const child = await runNode(fixture('exit-mid-stream.ts'), { PORT: String(srv.address.port), CA_PEM: pki().caCertPem }, 20_000);
    assert.equal(child.code, 0);
    const c = await conn;
    const t0 = Date.now();
    const info = await Promise.race([c.closed, new Promise<undefined>((r) => setTimeout(r, 4000))]);
    assert.ok(info !== undefined, 'server must notice the dead peer');
    assert.equal(info.how, 'idle-timeout');
    assert.ok(Date.now() - t0 < 2500);
    assert.ok(bytes > 0);
  });

  it('endpoint close() closes every connection with its code, and the process exits on its own', async () => {
    const r = await runNode(fixture('close-and-exit.ts'), {}, 15_000);
    assert.equal(r.code, 0, 'process must exit by itself after close()');
    const out = JSON.parse(r.stdout) as { client: QuicCloseInfo; server: QuicCloseInfo; closeMs: number };
    assert.equal(out.server.how, 'local');
    assert.equal(out.server.code, 5);
    assert.ok(['local', 'remote'].includes(out.client.how));
    assert.ok(out.closeMs < 2500, `close took ${out.closeMs} ms`);
  });

  it('close() of an endpoint rejects pending connects and refuses new ones', async () => {
    const cli = client();
    // Nothing listens there: the attempt stays pending until the endpoint closes.
    const pending = cli.connect({ host: '127.0.0.1', port: 9, serverName: 'localhost', alpn: [ALPN], caPem: pki().caCertPem });
    const outcome = pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    const closed = once(cli, 'close');
    await cli.close();
    await closed;
    assert.ok((await outcome) instanceof QuicError);
    await assert.rejects(
      cli.connect({ host: '127.0.0.1', port: 9, alpn: [ALPN] }),
      (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.EndpointClosed,
    );
  });

  it('the server sees the remote close of each connection when a client endpoint closes', async () => {
    const { cli, s } = await pair();
    const seen = once<[QuicCloseInfo]>(s, 'close');
    await cli.close(3, 'bye');
    const [info] = await seen;
    assert.deepEqual(info, { how: 'remote', code: 3, reason: 'bye' });
  });

  it('rejects unknown transport options loudly', () => {
    assert.throws(
      () => server({ transport: { streamRecieveWindow: 1 } as never }),
      (e: unknown) => e instanceof QuicError && e.code === QuicErrorCode.InvalidOptions,
    );
  });
});
