// A JSON request over HTTPS that trusts one CA file (what a PoP or operator with the private CA
// does), and a look at the certificate a server presents. 5 s deadline each.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';

export async function httpsJson(
  url: string,
  method: string,
  path: string,
  opts: { ca?: string; bearer: string; body?: unknown },
): Promise<{ status: number; json: unknown }> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        timeout: 5000,
        ...(opts.ca === undefined ? {} : { ca: readFileSync(opts.ca) }),
        headers: { authorization: `Bearer ${opts.bearer}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The serial number of the certificate served at host:port, verified against `ca`. */
export async function servedSerial(host: string, port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, ca: readFileSync(ca), timeout: 5000 }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on('timeout', () => s.destroy(new Error('tls connect timed out')));
    s.on('error', reject);
  });
}

/** Opens GET /v1/watch and collects its lines until close(); `waitFor` waits (bounded) for a matching line. */
export function openWatch(url: string, ca: string, bearer: string): { waitFor(re: RegExp, ms: number): Promise<string>; close(): void } {
  const lines: string[] = [];
  let buf = '';
  const req = request(new URL('/v1/watch?pop=rotation-watch', url), { ca: readFileSync(ca), headers: { authorization: `Bearer ${bearer}` } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    async waitFor(re, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`no watch line matching ${String(re)} within ${ms} ms (got ${lines.length} lines)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => req.destroy(),
  };
}
