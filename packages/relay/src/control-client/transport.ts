// How a PoP reaches its control plane: plain `fetch` for http:// URLs and for https:// URLs
// signed by a public CA; with `control.caFile` an HTTPS agent that trusts exactly that CA
// bundle (a private CA for the control plane's certificate). The bundle is read at start;
// to move to a new CA, put the old and the new CA in the file and restart the relay.
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { ErrorCode, FpsError } from '@fastpubsub/core';

export type ControlFetch = (url: string, init: RequestInit) => Promise<Response>;

export function controlFetch(caFile: string | undefined): { fetch: ControlFetch; close(): Promise<void> } {
  if (caFile === undefined) return { fetch: (url, init) => fetch(url, init), close: async () => undefined };
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw new FpsError(ErrorCode.ConfigInvalid, `control.caFile: cannot read ${caFile}: ${(err as Error).message}`);
  }
  const agent = new Agent({ connect: { ca, rejectUnauthorized: true } });
  return {
    // undici's Response is the same class Node's global fetch returns; only the typings differ.
    fetch: (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}
