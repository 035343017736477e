// Small pieces of the scenario language: payload specs, value matchers, pattern matching.

/**
 * A payload in a scenario: `{"text": "hi"}` (UTF-8; `{i}` is replaced by the message index in
 * a series), `{"size": N}` (N deterministic bytes), or `{"base64": "…"}`.
 */
export type PayloadSpec = { text: string } | { size: number } | { base64: string };

export function payloadBytes(spec: PayloadSpec, index = 0): Buffer {
  if ('text' in spec) return Buffer.from(spec.text.replaceAll('{i}', String(index)), 'utf8');
  if ('size' in spec) {
    const b = Buffer.alloc(spec.size);
    for (let k = 0; k < spec.size; k++) b[k] = (k * 31 + 7 + index) & 0xff;
    return b;
  }
  return Buffer.from(spec.base64, 'base64');
}

export function isPayloadSpec(v: unknown): v is PayloadSpec {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return false;
  if (typeof o['text'] === 'string') return true;
  if (typeof o['base64'] === 'string') return true;
  return Number.isInteger(o['size']) && (o['size'] as number) >= 0;
}

/** Short description of bytes for failure messages. */
export function describeBytes(b: Buffer): string {
  const printable = b.length <= 40 && /^[\x20-\x7e]*$/.test(b.toString('latin1'));
  return printable ? JSON.stringify(b.toString('latin1')) : `<${b.length} bytes ${b.subarray(0, 8).toString('hex')}…>`;
}

/**
 * A value matcher: a literal (deep equality), or `{"min": x}` / `{"max": y}` / both for
 * numbers, or `{"oneOf": [...]}`. Returns undefined on match, else why not.
 */
export function mismatch(expected: unknown, actual: unknown, path: string): string | undefined {
  if (typeof expected === 'object' && expected !== null && !Array.isArray(expected)) {
    const e = expected as Record<string, unknown>;
    if ('min' in e || 'max' in e) {
      if (typeof actual !== 'number') return `${path}: expected a number, got ${JSON.stringify(actual)}`;
      if (typeof e['min'] === 'number' && actual < e['min']) return `${path}: ${actual} < min ${e['min']}`;
      if (typeof e['max'] === 'number' && actual > e['max']) return `${path}: ${actual} > max ${e['max']}`;
      return undefined;
    }
    if (Array.isArray(e['oneOf'])) {
      return e['oneOf'].some((x) => mismatch(x, actual, path) === undefined) ? undefined : `${path}: ${JSON.stringify(actual)} is none of ${JSON.stringify(e['oneOf'])}`;
    }
    if (typeof actual !== 'object' || actual === null) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [k, v] of Object.entries(e)) {
      const why = mismatch(v, (actual as Record<string, unknown>)[k], `${path}.${k}`);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (JSON.stringify(expected) !== JSON.stringify(actual)) return `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  return undefined;
}

/**
 * Does `channel` match `pattern` (contract v0.1 §2: `*` one token, `p*` one token starting
 * with p, `#` zero or more trailing tokens, `>` one or more)?
 */
export function patternMatches(pattern: string, channel: string): boolean {
  const p = pattern.split('.');
  const c = channel.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i]!;
    const last = i === p.length - 1;
    if (last && (t === '#' || t === '>')) return t === '#' ? c.length >= i : c.length > i;
    if (last && (t.endsWith('#') || t.endsWith('>'))) {
      const prefix = t.slice(0, -1);
      if (c[i] === undefined || !c[i]!.startsWith(prefix)) return false;
      return t.endsWith('#') ? c.length >= i + 1 : c.length > i + 1;
    }
    const token = c[i];
    if (token === undefined) return false;
    if (t === '*') continue;
    if (t.endsWith('*')) {
      if (!token.startsWith(t.slice(0, -1))) return false;
      continue;
    }
    if (t !== token) return false;
  }
  return p.length === c.length;
}
