// The mesh PKI: one CA per mesh, one certificate per relay, signed by it. node:crypto can
// verify but not issue X.509 certificates and the QUIC binding's generateTestPki makes a fresh
// CA per call, so issuing goes through the `openssl` command (present wherever Node's own
// OpenSSL tooling is; the Debian package is `openssl`).
//
// A relay certificate: CN = relay id, SAN DNS:<id>.mesh.fastpubsub and DNS:mesh.fastpubsub
// (the name every relay presents, so a dialer that knows only an address can still verify the
// chain; the peer's identity is then read from the CN), EKU serverAuth + clientAuth because
// every relay is both a QUIC server and a client of its peers.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { assertPrivate } from '@fastpubsub/core';
import { isRelayId } from '@fastpubsub/wire';

const run = promisify(execFile);

/** SNI name every relay certificate carries. */
export const MESH_SERVER_NAME = 'mesh.fastpubsub';

export interface MeshCredentials {
  id: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Set when the certificate is an edge agent's: the one tenant it may carry. */
  agentTenant?: string;
}

export interface MeshPkiPaths {
  caCert: string;
  caKey: string;
  relays: Record<string, { cert: string; key: string }>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('mesh init needs the `openssl` command (Debian package: openssl)');
    throw new Error(`openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * Creates (or reuses, when `dir/ca.pem` and `dir/ca.key` exist) the mesh CA in `dir` and a
 * certificate + key per relay id: `dir/<id>.pem`, `dir/<id>.key`. Keys are ECDSA P-256, mode 0600.
 */
export async function createMeshPki(dir: string, relays: readonly string[], opts: { days?: number } = {}): Promise<MeshPkiPaths> {
  for (const id of relays) if (!isRelayId(id)) throw new Error(`relay id '${id}' must be 1–64 characters of [A-Za-z0-9_.-]`);
  if (new Set(relays).size !== relays.length) throw new Error('relay ids must be unique');
  const days = String(opts.days ?? 825);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const haveCa = await Promise.all([readFile(caCert), readFile(caKey)]).then(
    () => true,
    () => false,
  );
  if (!haveCa) {
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    await openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', days, '-subj', '/CN=FastPubSub Mesh CA', '-out', 'ca.pem',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
    await chmod(caKey, 0o600);
  }
  const out: MeshPkiPaths = { caCert, caKey, relays: {} };
  for (const id of relays) {
    await issueLeaf(dir, id, [`DNS:${id}.${MESH_SERVER_NAME}`, `DNS:${MESH_SERVER_NAME}`], days);
    out.relays[id] = { cert: join(dir, `${id}.pem`), key: join(dir, `${id}.key`) };
  }
  await rm(join(dir, 'ca.srl'), { force: true });
  return out;
}

/** Signs `dir/<id>.pem` (+ `dir/<id>.key`, PKCS#8, 0600) with the CA in `dir`, with these SANs. */
async function issueLeaf(dir: string, id: string, sans: readonly string[], days: string): Promise<void> {
  const ext = `${id}.ext.tmp`;
  await writeFile(
    join(dir, ext),
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth', `subjectAltName=${sans.join(',')}`, ''].join('\n'),
  );
  try {
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${id}.sec1.tmp`], dir);
    // PKCS#8: the form every TLS stack reads.
    await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${id}.sec1.tmp`, '-out', `${id}.key`], dir);
    await openssl(['req', '-new', '-key', `${id}.key`, '-subj', `/CN=${id}`, '-out', `${id}.csr.tmp`], dir);
    await openssl(
      ['x509', '-req', '-in', `${id}.csr.tmp`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-sha256', '-days', days, '-extfile', ext, '-out', `${id}.pem`],
      dir,
    );
  } finally {
    await Promise.all([ext, `${id}.sec1.tmp`, `${id}.csr.tmp`].map((f) => rm(join(dir, f), { force: true })));
  }
  await chmod(join(dir, `${id}.key`), 0o600);
  await rm(join(dir, 'ca.srl'), { force: true });
}

/** SAN URI prefix that binds an edge agent's certificate to one tenant. */
export const AGENT_TENANT_URI = 'urn:fastpubsub:agent-tenant:';

/**
 * Issues an edge agent's certificate with the mesh CA already in `dir` (`mesh init`): CN = the
 * agent id, SAN DNS:<id>.mesh.fastpubsub and URI:urn:fastpubsub:agent-tenant:<tenant>. It has no
 * DNS:mesh.fastpubsub, so it cannot serve as a relay; a PoP reads the tenant from the URI and
 * lets the link carry that tenant's traffic only.
 */
export async function issueAgentCertificate(dir: string, id: string, tenant: string, opts: { days?: number } = {}): Promise<{ cert: string; key: string; ca: string }> {
  if (!isRelayId(id)) throw new Error(`agent id '${id}' must be 1–64 characters of [A-Za-z0-9_.-]`);
  if (!isRelayId(tenant)) throw new Error(`tenant '${tenant}' must be 1–64 characters of [A-Za-z0-9_.-]`);
  const haveCa = await Promise.all([readFile(join(dir, 'ca.pem')), readFile(join(dir, 'ca.key'))]).then(
    () => true,
    () => false,
  );
  if (!haveCa) throw new Error(`${dir} holds no mesh CA (ca.pem, ca.key): run \`fastpubsub mesh init\` first`);
  await issueLeaf(dir, id, [`DNS:${id}.${MESH_SERVER_NAME}`, `URI:${AGENT_TENANT_URI}${tenant}`], String(opts.days ?? 825));
  return { cert: join(dir, `${id}.pem`), key: join(dir, `${id}.key`), ca: join(dir, 'ca.pem') };
}

/** The tenant an edge agent's certificate is bound to; undefined for a relay (PoP) certificate. */
export function agentTenantOf(cert: X509Certificate): string | undefined {
  for (const san of (cert.subjectAltName ?? '').split(', ')) {
    if (san.startsWith(`URI:${AGENT_TENANT_URI}`)) {
      const tenant = san.slice(4 + AGENT_TENANT_URI.length);
      return isRelayId(tenant) ? tenant : undefined;
    }
  }
  return undefined;
}

/** The relay id a mesh certificate names (its CN), or undefined if it names none we accept. */
export function relayIdOf(cert: X509Certificate): string | undefined {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  if (cn === undefined || !isRelayId(cn)) return undefined;
  // The SAN must agree, so a certificate issued for another purpose by the same CA is refused.
  if (!(cert.subjectAltName ?? '').split(', ').includes(`DNS:${cn}.${MESH_SERVER_NAME}`)) return undefined;
  return cn;
}

/** Reads a relay's credentials and checks that the certificate is for `id` and from the CA. */
export async function loadMeshCredentials(files: { caFile: string; certFile: string; keyFile: string }, expectId?: string): Promise<MeshCredentials> {
  await assertPrivate(files.keyFile, 'mesh private key');
  const [caPem, certPem, keyPem] = await Promise.all([files.caFile, files.certFile, files.keyFile].map((f) => readFile(f, 'utf8')));
  const cert = new X509Certificate(certPem!);
  const id = relayIdOf(cert);
  if (id === undefined) throw new Error(`${files.certFile}: not a mesh relay certificate (CN=<id> with DNS:<id>.${MESH_SERVER_NAME})`);
  if (expectId !== undefined && id !== expectId) throw new Error(`${files.certFile} is for relay '${id}', not '${expectId}'`);
  if (!cert.checkIssued(new X509Certificate(caPem!))) throw new Error(`${files.certFile} is not issued by ${files.caFile}`);
  const agentTenant = agentTenantOf(cert);
  return { id, caPem: caPem!, certPem: certPem!, keyPem: keyPem!, ...(agentTenant === undefined ? {} : { agentTenant }) };
}
