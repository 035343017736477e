// Test helper: a throw-away PKI generated in Rust (rcgen): CA, server and client certificates.
import { loadAddon } from './native.js';

export interface TestPki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/**
 * A fresh CA "FastPubSub Test CA" with a server certificate for `serverNames` (DNS names or IP
 * literals, e.g. ['localhost', '127.0.0.1']) and a client certificate with CN and DNS SAN
 * `clientName`, both signed by it. ECDSA P-256. For tests only.
 */
export function generateTestPki(serverNames: readonly string[] = ['localhost', '127.0.0.1'], clientName = 'client.test'): TestPki {
  return loadAddon().generateTestPki([...serverNames], clientName);
}
