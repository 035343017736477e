// Pattern semantics of contract v0.1 §5. Patterns reach this module already validated by the
// caller (wire validatePattern), so nothing here re-checks syntax; a token is classified only
// by its last character, which is the one rule the trie and the oracle must share.

/** How one pattern token matches one channel token (or, in last position, the tail). */
export type PatternToken =
  | { readonly kind: 'exact'; readonly text: string }
  | { readonly kind: 'star' }
  /** `p*`: one token starting with `p` (`p` itself included: "starting with" is not "longer than"). */
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** `#` zero or more tokens; last position only. */
  | { readonly kind: 'hash' }
  /** `>` one or more tokens; last position only. */
  | { readonly kind: 'gt' }
  /** `p#`: a `p*` token followed by zero or more tokens. */
  | { readonly kind: 'prefixHash'; readonly prefix: string }
  /** `p>`: a `p*` token followed by one or more tokens. */
  | { readonly kind: 'prefixGt'; readonly prefix: string };

export function classifyToken(token: string): PatternToken {
  if (token === '*') return { kind: 'star' };
  if (token === '#') return { kind: 'hash' };
  if (token === '>') return { kind: 'gt' };
  const last = token.charCodeAt(token.length - 1);
  const prefix = token.slice(0, -1);
  if (last === 0x2a /* * */) return { kind: 'prefix', prefix };
  if (last === 0x23 /* # */) return { kind: 'prefixHash', prefix };
  if (last === 0x3e /* > */) return { kind: 'prefixGt', prefix };
  return { kind: 'exact', text: token };
}

/** True if the pattern contains no wildcard, i.e. it matches only the identical channel. */
export function isLiteralPattern(pattern: string): boolean {
  return !/[*#>]/.test(pattern);
}

/**
 * Reference matcher: deliberately simple (recursion over token lists) so the property tests
 * can use it as the oracle for the trie in SubscriptionIndex.
 */
export function matchesPattern(pattern: string, channel: string): boolean {
  const p = pattern.split('.');
  const c = channel.split('.');
  return matchFrom(p, 0, c, 0);
}

function matchFrom(p: readonly string[], pi: number, c: readonly string[], ci: number): boolean {
  if (pi === p.length) return ci === c.length;
  const tok = classifyToken(p[pi] as string);
  const rest = c.length - ci;
  const head = c[ci];
  switch (tok.kind) {
    case 'hash':
      return true;
    case 'gt':
      return rest >= 1;
    case 'prefixHash':
      return head !== undefined && head.startsWith(tok.prefix);
    case 'prefixGt':
      return rest >= 2 && (head as string).startsWith(tok.prefix);
    case 'exact':
      return head === tok.text && matchFrom(p, pi + 1, c, ci + 1);
    case 'star':
      return head !== undefined && matchFrom(p, pi + 1, c, ci + 1);
    case 'prefix':
      return head !== undefined && head.startsWith(tok.prefix) && matchFrom(p, pi + 1, c, ci + 1);
    default: {
      const never: never = tok;
      return never;
    }
  }
}
