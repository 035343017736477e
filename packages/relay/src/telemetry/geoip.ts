// Country of a client address from the database bundled in the
// @ip-location-db/geo-whois-asn-country-mmdb package (CC0; built from the regional internet
// registries' delegation statistics, NRO data under CC BY 4.0: see docs/observability.md).
// Nothing is downloaded: the 8 MB file ships in the npm package and is read once, on first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'mmdb-lib';

/** What `country()` answers for addresses with no country: loopback, private, unallocated. */
export const UNKNOWN_COUNTRY = 'unknown';

const DATABASE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/** The package's records are `{ country_code: "DE" }`, not MaxMind's shape. */
type CountryRecord = Response & { country_code?: string };

export class GeoIpCountry {
  #reader: Reader<CountryRecord> | undefined;
  readonly #path: string;

  constructor(path?: string) {
    this.#path = path ?? createRequire(import.meta.url).resolve(DATABASE);
  }

  /** ISO 3166-1 alpha-2 code of `ip` (IPv4, IPv6 or IPv4-mapped IPv6), or UNKNOWN_COUNTRY. */
  country(ip: string): string {
    const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    if (isIP(address) === 0) return UNKNOWN_COUNTRY;
    this.#reader ??= new Reader<CountryRecord>(readFileSync(this.#path));
    const code = this.#reader.get(address)?.country_code;
    return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : UNKNOWN_COUNTRY;
  }
}
