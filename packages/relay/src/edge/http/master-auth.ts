// The master token guards the token REST calls (contract §7). Both sides are hashed before a
// timing-safe comparison, so neither the content nor the length of the secret leaks by timing.
import { createHash, timingSafeEqual } from 'node:crypto';

export function masterTokenChecker(masterToken: string): (authorization: string | undefined) => boolean {
  const expected = digest(masterToken);
  return (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    // Hash something even without a token, so a missing header takes the same time.
    const given = digest(m?.[1] ?? '');
    return timingSafeEqual(given, expected) && m !== null;
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
