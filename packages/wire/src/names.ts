// Tenant, channel and pattern syntax (contract v0.1 §3 "Publish validation" and §5). Validators
// throw a WireError whose message names the problem, so the relay can send it as ERR detail.
import { MAX_CHANNEL, MAX_PATTERN, MAX_TENANT, WireError, type WireErrorCode } from './errors.js';
import { utf8Length } from './utf8.js';

// Allowed characters: A-Z a-z 0-9 _ - ~ @ .  (one lookup per char instead of a regex).
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_\-~@.]/.test(ch)) NAME_CHAR[c] = 1;
}
const DOT = 0x2e;
const STAR = 0x2a;
const HASH = 0x23;
const GT = 0x3e;

function fail(code: WireErrorCode, what: string, s: string, problem: string): never {
  throw new WireError(code, `invalid ${what} ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s)}: ${problem}`);
}

function describeChar(c: number): string {
  return c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0xa0) ? `U+${c.toString(16).padStart(4, '0').toUpperCase()}` : `'${String.fromCharCode(c)}'`;
}

function checkLength(code: WireErrorCode, what: string, s: string, max: number): void {
  if (s.length === 0) fail(code, what, s, 'empty');
  const n = utf8Length(s);
  if (n < 0 || n > max) fail(code, what, s, n < 0 ? 'not well-formed Unicode' : `${n} bytes, more than ${max}`);
}

function checkTokens(code: WireErrorCode, what: string, s: string): void {
  if (s.charCodeAt(0) === DOT) fail(code, what, s, 'empty token (leading dot)');
  if (s.charCodeAt(s.length - 1) === DOT) fail(code, what, s, 'empty token (trailing dot)');
  if (s.includes('..')) fail(code, what, s, 'empty token (double dot)');
}

export function validateTenant(s: string): void {
  checkLength('invalid_name', 'tenant', s, MAX_TENANT);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) fail('invalid_name', 'tenant', s, `character ${describeChar(c)} is not allowed (A-Za-z0-9_-~@.)`);
  }
}

export function validateChannel(s: string): void {
  checkLength('invalid_name', 'channel', s, MAX_CHANNEL);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === STAR || c === HASH || c === GT) fail('invalid_name', 'channel', s, `wildcard ${describeChar(c)} is not allowed in a channel`);
    if (c >= 128 || NAME_CHAR[c] === 0) fail('invalid_name', 'channel', s, `character ${describeChar(c)} is not allowed (A-Za-z0-9_-~@.)`);
  }
  checkTokens('invalid_name', 'channel', s);
}

/**
 * Tokens: `abc`, `*`, `p*` anywhere; `#`, `>`, `p#`, `p>` only last. A wildcard is always the
 * token's last character, so `a*b`, `*a`, `**` are invalid.
 */
export function validatePattern(s: string): void {
  checkLength('invalid_pattern', 'pattern', s, MAX_PATTERN);
  checkTokens('invalid_pattern', 'pattern', s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT) continue;
    if (c === STAR || c === HASH || c === GT) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : -1;
      if (next !== -1 && next !== DOT) fail('invalid_pattern', 'pattern', s, `wildcard ${describeChar(c)} must end its token (at byte ${i})`);
      if (c !== STAR && next !== -1) fail('invalid_pattern', 'pattern', s, `wildcard ${describeChar(c)} is allowed only in the last token`);
      // A wildcard after other characters of its token is a prefix token (`p*`, `p#`, `p>`).
      continue;
    }
    if (c >= 128 || NAME_CHAR[c] === 0) fail('invalid_pattern', 'pattern', s, `character ${describeChar(c)} is not allowed (A-Za-z0-9_-~@. and wildcards * # >)`);
  }
}

function toBool(check: (s: string) => void, s: string): boolean {
  try {
    check(s);
    return true;
  } catch {
    return false;
  }
}

export const isValidTenant = (s: string): boolean => toBool(validateTenant, s);
export const isValidChannel = (s: string): boolean => toBool(validateChannel, s);
export const isValidPattern = (s: string): boolean => toBool(validatePattern, s);
