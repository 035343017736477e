// The control plane's HTTPS: the server certificate and key come from files, read at start and
// re-read by reloadTls() (`fastpubsub control` calls it on SIGHUP), so a renewed certificate
// is served to new connections while the open ones (the PoPs' watch streams) stay up.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { ErrorCode, FpsError } from '@fastpubsub/core';

export interface ControlTlsFiles {
  certFile: string;
  keyFile: string;
}

async function readPair(files: ControlTlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new FpsError(ErrorCode.ConfigInvalid, `tls.${what}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const pair = { cert: await read(files.certFile, 'certFile'), key: await read(files.keyFile, 'keyFile') };
  try {
    createSecureContext(pair); // a key that does not match the certificate fails here, not per connection
  } catch (err) {
    throw new FpsError(ErrorCode.ConfigInvalid, `tls: ${files.certFile} / ${files.keyFile}: ${(err as Error).message}`);
  }
  return pair;
}

/** An HTTP server, or an HTTPS one with `tls`; `reload` re-reads the certificate files. */
export async function createControlServer(
  handler: RequestListener,
  tls: ControlTlsFiles | undefined,
): Promise<{ server: Server; reload: () => Promise<void> }> {
  if (tls === undefined) return { server: createHttpServer(handler), reload: async () => undefined };
  const server: HttpsServer = createHttpsServer({ ...(await readPair(tls)), minVersion: 'TLSv1.2' }, handler);
  return {
    server: server as unknown as Server,
    reload: async () => server.setSecureContext({ ...(await readPair(tls)), minVersion: 'TLSv1.2' }),
  };
}
