// @fastpubsub/control: the control-plane service. startControl() is the entry point.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@fastpubsub/core';
import { resolveControlConfig, type ControlConfig, type ControlConfigInput } from './config.js';
import { createControlHandler } from './http.js';
import { WatchHub } from './hub.js';
import { ControlService } from './service.js';
import { EmbeddedControlStore } from './store/embedded.js';
import { EtcdControlStore } from './store/etcd.js';
import { createControlServer } from './tls.js';
import type { ControlStore } from './store/store.js';

export { resolveControlConfig, CONTROL_DEFAULTS, type ControlConfig, type ControlConfigInput } from './config.js';
export { ControlService, parseLimits, type Principal } from './service.js';
export { EmbeddedControlStore } from './store/embedded.js';
export { EtcdControlStore } from './store/etcd.js';
export type { ControlStore, StoreChange, PutOptions } from './store/store.js';
export { openapi } from './openapi.js';
export { ROUTES } from './routes.js';

export interface Control {
  readonly url: string;
  readonly port: number;
  readonly config: ControlConfig;
  readonly service: ControlService;
  /** Re-reads the TLS certificate and key files (new connections get them; open ones stay). */
  reloadTls(): Promise<void>;
  close(): Promise<void>;
}

export interface ControlDeps {
  logger?: Logger;
  now?: () => number;
}

export async function startControl(input: ControlConfigInput, deps: ControlDeps = {}): Promise<Control> {
  const config = resolveControlConfig(input);
  const logger = deps.logger ?? createLogger({ level: config.logLevel }, { component: 'control' });
  const now = deps.now ?? Date.now;
  const store: ControlStore =
    config.store.kind === 'etcd'
      ? await EtcdControlStore.open({
          endpoints: config.store.endpoints,
          prefix: config.store.prefix,
          ...(config.store.tls === undefined ? {} : { tls: config.store.tls }),
          ...(config.store.auth === undefined ? {} : { auth: config.store.auth }),
          logger,
        })
      : await EmbeddedControlStore.open(config.store.dataDir, { now });
  const hub = new WatchHub(store, now, logger);
  const service = new ControlService({
    store,
    now,
    popLeaseMs: config.popLeaseMs,
    hub,
    logger,
    rateDefaults: { ingressKbPerSec: config.defaultIngressKbPerSec, egressKbPerSec: config.defaultEgressKbPerSec },
  });
  const streams = new Set<ServerResponse>();
  let server: Server | undefined;
  let reloadTls: () => Promise<void> = async () => undefined;
  try {
    await hub.start();
    await service.tokens.ensureSigningKey();
    const created = await createControlServer(
      createControlHandler({
        service,
        operatorToken: config.operatorToken,
        popToken: config.popToken,
        maxBodyBytes: config.maxHttpBodyBytes,
        logger,
        now,
        ...(config.consoleDir === undefined ? {} : { consoleDir: config.consoleDir }),
        trackStream: (res) => {
          streams.add(res);
          return () => streams.delete(res);
        },
      }),
      config.tls,
    );
    server = created.server;
    reloadTls = created.reload;
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(config.listen.port, config.listen.host, () => resolve());
    });
  } catch (err) {
    hub.stop();
    await store.close();
    throw err;
  }
  const srv: Server = server;
  const sweeper = setInterval(() => void service.tokens.sweep().catch(() => undefined), 60_000);
  sweeper.unref();
  const port = (srv.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `${config.tls === undefined ? 'http' : 'https'}://${host}:${port}`;
  logger.info('control listening', { url, store: store.kind });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    config: { ...config, listen: { ...config.listen, port } },
    service,
    reloadTls: async () => {
      await reloadTls();
      logger.info('control TLS certificate reloaded');
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweeper);
        hub.stop();
        for (const res of streams) res.destroy();
        const closed = new Promise<void>((r) => srv.close(() => r()));
        srv.closeAllConnections();
        await closed;
        await store.close();
        logger.info('control stopped');
      })()),
  };
}
