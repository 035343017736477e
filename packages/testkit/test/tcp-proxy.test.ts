// TcpDelayProxy over real TCP sockets on 127.0.0.1. Generous timing bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TcpDelayProxy } from '../src/index.js';

/** An echo server that also records every socket it accepted. */
async function echoServer(): Promise<{ server: Server; port: number; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    server,
    port: addr.port,
    sockets,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Writes `data` and resolves with ms until the same number of bytes came back. */
function echoTime(s: Socket, data: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (chunk: Buffer): void => {
      got += chunk.length;
      if (got >= data.length) {
        s.off('data', onData);
        resolve(performance.now() - start);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(data);
  });
}

test('adds the configured delay per direction, changeable at runtime', async () => {
  const echo = await echoServer();
  const proxy = await TcpDelayProxy.start({ target: { port: echo.port }, upMs: 100, downMs: 50 });
  try {
    assert.equal(proxy.url, `http://127.0.0.1:${proxy.port}`);
    const s = await dial(proxy.port);
    const rtt = await echoTime(s, 'hello');
    assert.ok(rtt >= 142 && rtt < 600, `rtt ${rtt}`);
    proxy.setDelay({ upMs: 0, downMs: 0 });
    const fast = await echoTime(s, 'again');
    assert.ok(fast < 100, `fast ${fast}`);
    proxy.setDelay({ downMs: 200 });
    const slow = await echoTime(s, 'slow!');
    assert.ok(slow >= 190 && slow < 700, `slow ${slow}`);
    const st = proxy.stats();
    assert.equal(st.accepted, 1);
    assert.equal(st.open, 1);
    assert.equal(st.bytesUp, 15);
    assert.equal(st.bytesDown, 15);
    s.destroy();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('keeps byte order across many chunks and carries large transfers', async () => {
  const echo = await echoServer();
  const proxy = await TcpDelayProxy.start({ target: { port: echo.port }, upMs: 20, downMs: 20, highWaterBytes: 64 * 1024 });
  try {
    const s = await dial(proxy.port);
    const chunks: Buffer[] = [];
    let total = 0;
    const expected = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 31 + (i >> 8)) & 0xff;
    const done = new Promise<void>((resolve) => s.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= expected.length) resolve();
    }));
    for (let off = 0; off < expected.length; off += 1000) s.write(expected.subarray(off, off + 1000));
    await done;
    assert.ok(Buffer.concat(chunks).equals(expected));
    s.destroy();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('half-close is forwarded after the delay', async () => {
  // A server that answers once the client has finished sending (like HTTP/1.0 with a body).
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let body = '';
    s.on('data', (d: Buffer) => { body += d.toString(); });
    s.on('end', () => s.end(`got:${body}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const proxy = await TcpDelayProxy.start({ target: { port }, upMs: 30, downMs: 30 });
  try {
    const s = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    let reply = '';
    s.on('data', (d: Buffer) => { reply += d.toString(); });
    const ended = new Promise<void>((resolve) => s.on('end', () => resolve()));
    s.end('abc');
    await ended;
    assert.equal(reply, 'got:abc');
    s.destroy();
  } finally {
    await proxy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('cut() destroys current connections on both sides; new ones still work', async () => {
  const echo = await echoServer();
  const proxy = await TcpDelayProxy.start({ target: { port: echo.port } });
  try {
    const s = await dial(proxy.port);
    s.on('error', () => {});
    await echoTime(s, 'x');
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    const serverSide = echo.sockets[0]!;
    const serverClosed = new Promise<void>((resolve) => {
      if (serverSide.destroyed) resolve();
      else serverSide.once('close', () => resolve());
    });
    proxy.cut();
    await Promise.race([
      Promise.all([closed, serverClosed]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('not cut within 2 s')), 2000)),
    ]);
    assert.equal(proxy.stats().open, 0);
    const s2 = await dial(proxy.port);
    await echoTime(s2, 'y');
    s2.destroy();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('an unreachable target closes the client connection', async () => {
  const echo = await echoServer();
  const port = echo.port;
  await echo.close(); // nothing listens on `port` any more
  const proxy = await TcpDelayProxy.start({ target: { port } });
  try {
    const s = connect({ host: '127.0.0.1', port: proxy.port });
    s.on('error', () => {});
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
  } finally {
    await proxy.close();
  }
});
