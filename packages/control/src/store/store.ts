// Where the control plane keeps its records. Two implementations: `embedded` (one machine, a
// checksummed append-only log) and `etcd` (a replicated cluster; the service is then stateless
// and runs as several instances). Values are JSON documents addressed by (kind, id).
import type { Kind } from '../types.js';

export interface StoreChange {
  kind: Kind;
  id: string;
  /** The new value, or undefined when the record was deleted (or its lease lapsed). */
  value: unknown;
  /** Store revision of the change (etcd mod revision, or the embedded log's counter). */
  rev: number;
}

export interface PutOptions {
  /** The record disappears after this long unless put again (etcd lease; PoP registry). */
  ttlMs?: number;
  /** Only create: resolves false and changes nothing if the record exists. */
  ifAbsent?: boolean;
}

export interface ControlStore {
  readonly kind: 'embedded' | 'etcd';
  get<T>(kind: Kind, id: string): Promise<T | undefined>;
  list<T>(kind: Kind): Promise<Array<{ id: string; value: T }>>;
  /** Durable when it resolves. Rejects with FpsError store_unavailable when the store is down. */
  put(kind: Kind, id: string, value: unknown, opts?: PutOptions): Promise<boolean>;
  delete(kind: Kind, id: string): Promise<void>;
  /**
   * Every change from now on, of every kind. `onResync` is called when the feed had a gap
   * (reconnected after the store was unreachable): the listener should re-list what it caches.
   */
  watch(listener: (c: StoreChange) => void, onResync?: () => void): () => void;
  close(): Promise<void>;
}
