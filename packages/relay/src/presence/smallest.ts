// The `limit` smallest strings of a collection above a cursor, in order, without sorting the
// whole collection: a bounded max-heap, O(n log limit). A presence page of a 100,000-member
// channel costs one pass over its ids instead of a full sort per request.

/** The `limit` smallest of `ids` that are > `after` (all if `after` is undefined), ascending; `more` if others remain. */
export function smallestAfter(ids: Iterable<string>, after: string | undefined, limit: number): { ids: string[]; more: boolean } {
  const heap: string[] = []; // max-heap: heap[0] is the largest kept
  let more = false;
  for (const id of ids) {
    if (after !== undefined && id <= after) continue;
    if (heap.length < limit) {
      heap.push(id);
      siftUp(heap, heap.length - 1);
    } else if (limit > 0 && id < (heap[0] as string)) {
      heap[0] = id;
      siftDown(heap, 0);
      more = true;
    } else {
      more = true;
    }
  }
  return { ids: heap.sort(), more };
}

function siftUp(h: string[], i: number): void {
  const x = h[i] as string;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = h[parent] as string;
    if (p >= x) break;
    h[i] = p;
    i = parent;
  }
  h[i] = x;
}

function siftDown(h: string[], i: number): void {
  const n = h.length;
  const x = h[i] as string;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    const right = child + 1;
    if (right < n && (h[right] as string) > (h[child] as string)) child = right;
    const c = h[child] as string;
    if (c <= x) break;
    h[i] = c;
    i = child;
  }
  h[i] = x;
}
