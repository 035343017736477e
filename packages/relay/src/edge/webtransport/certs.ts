// Development certificates for WebTransport (docs/webtransport.md "Certificates"). Browsers
// accept a self-signed certificate by its SHA-256 (`serverCertificateHashes`) only if it is
// ECDSA and valid for at most 14 days, so without a configured certificate the relay keeps
// one short-lived certificate for clients offering ALPN h3 and rotates it before expiry:
//
//   0 ──── half-life: generate the next one, publish both hashes ──── 3/4: serve the next one ──── expiry
//
// A page that fetched the hashes before the next certificate existed still matches the one
// served until 3/4 of its life; one that fetched both matches either. GET /v1/webtransport
// publishes every hash still valid.
import { generateWebTransportCert, type WebTransportCert } from '@fastpubsub/quic';

/** Our validity: under the browsers' 14-day limit, with room for clock skew. */
export const DEV_CERT_VALID_MS = 13 * 24 * 3600_000;

export interface CertificateHash {
  algorithm: 'sha-256';
  /** Base64 of the SHA-256 of the certificate's DER. */
  value: string;
}

export class WebTransportDevCerts {
  #serving: WebTransportCert;
  #next: WebTransportCert | undefined;
  readonly #names: readonly string[];
  readonly #validMs: number;
  readonly #now: () => number;
  readonly #onServe: (cert: WebTransportCert) => void;
  #timer: NodeJS.Timeout | undefined;

  /** `onServe`: install this certificate for new h3 handshakes (called on rotation). */
  constructor(opts: { names: readonly string[]; now?: () => number; validMs?: number; onServe?: (cert: WebTransportCert) => void }) {
    this.#names = opts.names;
    this.#now = opts.now ?? Date.now;
    this.#validMs = opts.validMs ?? DEV_CERT_VALID_MS;
    this.#onServe = opts.onServe ?? (() => {});
    this.#serving = this.#generate();
  }

  /** The certificate served now. */
  get serving(): WebTransportCert {
    return this.#serving;
  }

  /** Hashes of the certificates a browser may meet: the served one and, once made, the next. */
  hashes(): CertificateHash[] {
    return [this.#serving, this.#next]
      .filter((c): c is WebTransportCert => c !== undefined && c.notAfter > this.#now())
      .map((c) => ({ algorithm: 'sha-256', value: c.sha256.toString('base64') }));
  }

  /** Advances the rotation to `now` (the timer calls it; tests call it with a chosen clock). */
  tick(): void {
    const now = this.#now();
    const life = this.#serving.notAfter - this.#serving.notBefore;
    if (this.#next === undefined && now >= this.#serving.notBefore + life / 2) this.#next = this.#generate();
    if (this.#next !== undefined && now >= this.#serving.notBefore + (life * 3) / 4) {
      this.#serving = this.#next;
      this.#next = undefined;
      this.#onServe(this.#serving);
    }
  }

  /** Checks the rotation every `everyMs` (unref'd: never keeps the process alive). */
  start(everyMs = 60_000): void {
    this.#timer ??= setInterval(() => this.tick(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #generate(): WebTransportCert {
    return generateWebTransportCert(this.#names, { notBefore: this.#now() - 60_000, validMs: this.#validMs });
  }
}

/** What GET /v1/webtransport answers: where the edge is and the certificate hashes to pin. */
export function webTransportInfo(port: number | undefined, path: string, certs: WebTransportDevCerts | undefined): { enabled: boolean; port: number | null; path: string; serverCertificateHashes: readonly CertificateHash[] } {
  return { enabled: port !== undefined, port: port ?? null, path, serverCertificateHashes: certs?.hashes() ?? [] };
}
