// The QUIC edge's TLS identity: the configured PEM files (quic.certFile/keyFile, else the
// relay's tls files); without any, a self-signed CA and server certificate generated once into
// dataDir/quic/ and reused, whose CA clients must trust (its path is logged, and the Relay
// handle exposes it as quicCaPem).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generateTestPki } from '@fastpubsub/quic';
import { ErrorCode, FpsError, PRIVATE_DIR_MODE, assertPrivate, type Logger, type RelayConfig } from '@fastpubsub/core';

export interface QuicTlsIdentity {
  certPem: string;
  keyPem: string;
  /** Set for a generated identity: the CA certificate clients must trust. */
  caPem?: string;
  caFile?: string;
  /** A short-lived certificate for WebTransport clients (ALPN h3), when set. */
  webTransport?: { h3CertPem: string; h3KeyPem: string };
  /** Set for a generated identity: the names it is valid for. */
  names?: string[];
}

async function read(path: string, key: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FpsError(ErrorCode.ConfigInvalid, `${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function loadQuicTls(config: RelayConfig, logger: Logger): Promise<QuicTlsIdentity> {
  const q = config.quic;
  if (q.certFile !== undefined && q.keyFile !== undefined) {
    return { certPem: await read(q.certFile, 'quic.certFile'), keyPem: await read(q.keyFile, 'quic.keyFile') };
  }
  if (config.tls !== undefined) {
    return { certPem: await read(config.tls.certFile, 'tls.certFile'), keyPem: await read(config.tls.keyFile, 'tls.keyFile') };
  }
  const names = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), q.listen.host, config.listen.host])].filter(
    (n) => n !== '0.0.0.0' && n !== '::',
  );
  const dir = join(config.dataDir, 'quic');
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await assertPrivate(files.key, 'QUIC private key');
  try {
    const [caPem, certPem, keyPem] = await Promise.all([files.ca, files.cert, files.key].map((f) => readFile(f, 'utf8')));
    return { certPem: certPem as string, keyPem: keyPem as string, caPem: caPem as string, caFile: files.ca, names };
  } catch {
    // not generated yet
  }
  const pki = generateTestPki(names, 'fastpubsub-relay');
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await writeFile(files.ca, pki.caCertPem);
  await writeFile(files.cert, pki.serverCertPem);
  await writeFile(files.key, pki.serverKeyPem, { mode: 0o600 });
  logger.info('quic: generated a self-signed certificate; clients must trust its CA', { caFile: files.ca, names });
  return { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, caPem: pki.caCertPem, caFile: files.ca, names };
}
