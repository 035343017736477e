// Node-disjoint redundant delivery (per-channel option `redundantChannels`). The origin sends
// the primary copy along the normal routes and, per destination, a second copy source-routed
// along the best advertised path whose relays are all different from the primary path's
// (Router.alternate). The second copy carries its remaining hops (FWD flag VIA), so no relay on
// the way re-routes it onto the primary path: killing any one relay that is neither the origin
// nor the destination leaves one copy intact. The destination keeps the first copy (de-duplicated
// by message id). Pure: the caller sends.

/** What the origin needs from the router. */
export interface AlternateSource {
  alternate(dest: string): { path: readonly string[] } | undefined;
}

export interface SourceRoutedCopy {
  /** The neighbour to send the copy to. */
  hop: string;
  dest: string;
  /** Relays after `hop`, before `dest`, in order. */
  via: string[];
}

/** One source-routed copy per destination that has a disjoint alternate path. */
export function disjointCopies(dests: readonly string[], router: AlternateSource): SourceRoutedCopy[] {
  const out: SourceRoutedCopy[] = [];
  for (const dest of dests) {
    const path = router.alternate(dest)?.path;
    // path = [self, hop, …, dest]; a path of one hop is the direct link.
    if (path === undefined || path.length < 2) continue;
    out.push({ hop: path[1]!, dest, via: path.slice(2, -1) });
  }
  return out;
}

export type SourceRouteStep =
  | { kind: 'deliver' }
  | { kind: 'forward'; hop: string; via: string[] }
  | { kind: 'invalid' };

/** What a relay does with a source-routed copy for `dest` whose remaining hops are `via`. */
export function sourceRouteStep(self: string, dest: string, via: readonly string[]): SourceRouteStep {
  if (dest === self) return via.length === 0 ? { kind: 'deliver' } : { kind: 'invalid' };
  if (via.length === 0) return { kind: 'forward', hop: dest, via: [] };
  if (via.includes(self)) return { kind: 'invalid' }; // a loop in the route
  return { kind: 'forward', hop: via[0]!, via: via.slice(1) };
}
