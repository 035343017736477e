/**
 * Deliver-one (contract §6, §10.7): a uniform pick. `random` returns [0, 1) like Math.random;
 * it is injected so tests and the simulator are deterministic.
 */
export function pickOne<S>(candidates: readonly S[], random: () => number): S | undefined {
  const n = candidates.length;
  if (n === 0) return undefined;
  // Clamp: a random() that returns exactly 1 (or a float rounding to n) must not fall off the end.
  const i = Math.min(n - 1, Math.max(0, Math.floor(random() * n)));
  return candidates[i];
}
