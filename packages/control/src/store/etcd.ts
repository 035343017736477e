// The replicated control store on etcd (npm `etcd3`). Keys are `{prefix}/{kind}/{id}` holding
// JSON; TTL records (the PoP registry) are put under a fresh lease, so a PoP that stops
// heartbeating disappears when its lease lapses; one watch on the prefix feeds every change to
// the service instances, which are stateless and may run several against one cluster.
// Calls carry a short deadline and a bounded retry (across members), so with the cluster
// unreachable they fail fast with store_unavailable instead of hanging the API.
import { ConsecutiveBreaker, ConstantBackoff, ExponentialBackoff, circuitBreaker, handleWhen, retry, type IBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError, type Watcher } from 'etcd3';
import { ErrorCode, FpsError, type Logger } from '@fastpubsub/core';
import { readFileSync } from 'node:fs';
import { KINDS, type Kind } from '../types.js';
import type { ControlStore, PutOptions, StoreChange } from './store.js';

export interface EtcdStoreOptions {
  /** `http://127.0.0.1:2379` style endpoints of the cluster members. */
  endpoints: string[];
  /** Key prefix; default `/fastpubsub`. */
  prefix?: string;
  /** Client TLS: the members' CA, and a client certificate + key when etcd asks for one (PEM files). */
  tls?: { caFile: string; certFile?: string; keyFile?: string };
  /** Password auth (etcd `auth enable`); with a client certificate and no password, etcd uses its CN. */
  auth?: { username: string; password: string };
  /** Per-call deadline; default 1500 ms. */
  callTimeoutMs?: number;
  logger: Logger;
}

export class EtcdControlStore implements ControlStore {
  readonly kind = 'etcd' as const;
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<(c: StoreChange) => void>();
  readonly #resyncs = new Set<() => void>();
  #watcher: Watcher | undefined;
  #closed = false;

  private constructor(opts: EtcdStoreOptions) {
    this.#prefix = (opts.prefix ?? '/fastpubsub').replace(/\/$/, '');
    this.#logger = opts.logger;
    const timeout = opts.callTimeoutMs ?? 1500;
    this.#client = new Etcd3({
      hosts: opts.endpoints,
      ...(opts.tls === undefined ? {} : { credentials: readCredentials(opts.tls) }),
      ...(opts.auth === undefined ? {} : { auth: { ...opts.auth } }),
      dialTimeout: timeout,
      // gRPC's reconnect backoff grows to 120 s by default: after a long outage the first calls
      // would time out for a long while after etcd is back. Keep it under a second.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: {
        // A dead member is skipped for 1 s after 2 failures; the global policy retries on another.
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 2, backoff: new ConstantBackoff(50) }),
        // etcd3 declares an IBackoff here but constructs its watch manager with a factory.
        watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) as unknown as IBackoff<unknown>,
      },
    });
  }

  /** Connects and starts the prefix watch; rejects with store_unavailable if the cluster is down. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdControlStore> {
    let s: EtcdControlStore;
    try {
      s = new EtcdControlStore(opts);
    } catch (err) {
      throw err instanceof FpsError ? err : new FpsError(ErrorCode.ConfigInvalid, `etcd store: ${(err as Error).message}`);
    }
    try {
      // A plain read first: a refused credential or a prefix outside the user's role fails here
      // at once, where the watch would retry it forever.
      await s.#client.get(`${s.#prefix}/`).string();
      await s.#startWatch();
    } catch (err) {
      s.#client.close();
      throw unavailable(err);
    }
    return s;
  }

  async get<T>(kind: Kind, id: string): Promise<T | undefined> {
    const text = await this.#call(() => this.#client.get(this.#key(kind, id)).string());
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async list<T>(kind: Kind): Promise<Array<{ id: string; value: T }>> {
    const base = `${this.#prefix}/${kind}/`;
    const all = await this.#call(() => this.#client.getAll().prefix(base).strings());
    return Object.entries(all).map(([k, v]) => ({ id: k.slice(base.length), value: JSON.parse(v) as T }));
  }

  async put(kind: Kind, id: string, value: unknown, opts: PutOptions = {}): Promise<boolean> {
    const key = this.#key(kind, id);
    const json = JSON.stringify(value);
    return this.#call(async () => {
      let leaseId: string | undefined;
      if (opts.ttlMs !== undefined) {
        const ttl = Math.max(1, Math.ceil(opts.ttlMs / 1000));
        leaseId = String((await this.#client.leaseClient.leaseGrant({ TTL: ttl })).ID);
      }
      const put = this.#client.put(key).value(json);
      if (leaseId !== undefined) put.lease(leaseId);
      if (opts.ifAbsent === true) {
        const r = await this.#client.if(key, 'Create', '==', 0).then(put).commit();
        return r.succeeded;
      }
      await put.exec();
      return true;
    });
  }

  async delete(kind: Kind, id: string): Promise<void> {
    await this.#call(() => this.#client.delete().key(this.#key(kind, id)).exec());
  }

  watch(listener: (c: StoreChange) => void, onResync?: () => void): () => void {
    this.#listeners.add(listener);
    if (onResync !== undefined) this.#resyncs.add(onResync);
    return () => {
      this.#listeners.delete(listener);
      if (onResync !== undefined) this.#resyncs.delete(onResync);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.cancel().catch(() => undefined);
    this.#client.close();
  }

  #key(kind: Kind, id: string): string {
    return `${this.#prefix}/${kind}/${id}`;
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new FpsError(ErrorCode.StoreUnavailable, 'the etcd control store is closed');
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }

  async #startWatch(): Promise<void> {
    const base = `${this.#prefix}/`;
    const w = await this.#client.watch().prefix(base).create();
    this.#watcher = w;
    const emit = (key: string, value: unknown, rev: string): void => {
      const rest = key.slice(base.length);
      const slash = rest.indexOf('/');
      const kind = rest.slice(0, slash) as Kind;
      if (slash <= 0 || !KINDS.includes(kind)) return;
      const c: StoreChange = { kind, id: rest.slice(slash + 1), value, rev: Number(rev) };
      for (const l of this.#listeners) {
        try {
          l(c);
        } catch (err) {
          this.#logger.error('store watcher failed', { err });
        }
      }
    };
    w.on('put', (kv) => {
      let v: unknown;
      try {
        v = JSON.parse(kv.value.toString('utf8'));
      } catch {
        return;
      }
      emit(kv.key.toString('utf8'), v, kv.mod_revision);
    });
    w.on('delete', (kv) => emit(kv.key.toString('utf8'), undefined, kv.mod_revision));
    let lost = false;
    w.on('disconnected', () => {
      if (!lost) this.#logger.warn('etcd watch disconnected; retrying');
      lost = true;
    });
    w.on('connected', () => {
      if (!lost) return;
      lost = false;
      this.#logger.info('etcd watch reconnected');
      for (const r of this.#resyncs) r();
    });
    w.on('error', (err) => this.#logger.debug('etcd watch error', { err: String(err) }));
  }
}

function readCredentials(tls: { caFile: string; certFile?: string; keyFile?: string }): {
  rootCertificate: Buffer;
  certChain?: Buffer;
  privateKey?: Buffer;
} {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new FpsError(ErrorCode.ConfigInvalid, `store.tls.${what}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  return {
    rootCertificate: read('caFile', tls.caFile),
    ...(tls.certFile === undefined ? {} : { certChain: read('certFile', tls.certFile) }),
    ...(tls.keyFile === undefined ? {} : { privateKey: read('keyFile', tls.keyFile) }),
  };
}

function unavailable(err: unknown): FpsError {
  if (err instanceof FpsError) return err;
  return new FpsError(ErrorCode.StoreUnavailable, `etcd unavailable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
