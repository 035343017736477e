// A loopback TCP forwarder standing in for the one URL an SDK keeps across reconnects (an
// overlay's load balancer): new connections go to whichever relay `target` names now, and
// `cutAll()` drops every forwarded connection without a close frame (a lost connection).
import net from 'node:net';

export class TcpProxy {
  target: number;
  readonly #server: net.Server;
  readonly #pairs = new Set<[net.Socket, net.Socket]>();

  private constructor(server: net.Server, target: number) {
    this.#server = server;
    this.target = target;
    server.on('connection', (client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: this.target });
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.#pairs.add(pair);
      const end = (): void => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const s of pair) {
        s.on('error', end);
        s.on('close', end);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  static listen(target: number): Promise<TcpProxy> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(new TcpProxy(server, target)));
    });
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  cutAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  close(): Promise<void> {
    this.cutAll();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
