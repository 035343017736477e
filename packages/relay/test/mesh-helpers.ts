// The mesh tests' cluster: `fastpubsub dev`'s relays as child processes behind the link
// emulator, quiet; the rest of the helpers are shared in @fastpubsub/testkit/relay.
import { startDevCluster, type DevCluster, type DevClusterOptions } from '@fastpubsub/cli';

export * from '@fastpubsub/testkit/relay';

export async function cluster(topology: unknown, opts: DevClusterOptions = {}): Promise<DevCluster> {
  return startDevCluster(topology, { logLevel: 'warn', ...opts });
}
