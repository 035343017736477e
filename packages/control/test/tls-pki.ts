// A throwaway PKI made with openssl for the TLS tests: one CA, then leaf certificates with the
// names and uses asked for. Every call is bounded (30 s); openssl missing fails naming it.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install ${pkg}`);
}

export class TestPki {
  constructor(readonly dir: string, readonly caName = 'ca') {}

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe', timeout: 30_000 });
  }

  /** Creates `{caName}.pem` / `{caName}.key`. */
  createCa(subject = '/CN=fastpubsub test CA'): this {
    this.#openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', subject, '-keyout', `${this.caName}.key`, '-out', `${this.caName}.pem`]);
    return this;
  }

  get caFile(): string {
    return join(this.dir, `${this.caName}.pem`);
  }

  /** Writes `{name}.pem` and `{name}.key` signed by the CA; returns their paths. */
  issue(name: string, cn: string, opts: { ips?: string[]; dns?: string[]; client?: boolean; server?: boolean } = {}): { certFile: string; keyFile: string } {
    const san = [...(opts.ips ?? []).map((ip) => `IP:${ip}`), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
    const uses = [opts.server !== false ? 'serverAuth' : '', opts.client === true ? 'clientAuth' : ''].filter((u) => u !== '');
    const ext = [san.length > 0 ? `subjectAltName=${san.join(',')}` : '', `extendedKeyUsage=${uses.join(',')}`].filter((l) => l !== '');
    writeFileSync(join(this.dir, `${name}.ext`), ext.join('\n') + '\n');
    this.#openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    this.#openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${this.caName}.pem`, '-CAkey', `${this.caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
    return { certFile: join(this.dir, `${name}.pem`), keyFile: join(this.dir, `${name}.key`) };
  }
}
