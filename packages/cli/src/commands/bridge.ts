// `fastpubsub bridge --config FILE`: runs NATS / Redis bridges on their own, as a PoP whose
// job is the bridges. The file is a relay config (docs/bridges.md) with a non-empty `bridges`
// list; with `mesh` it joins the fabric like any PoP, so its bridges see every channel and
// share the carrier election with the other PoPs configuring the same bridge ids.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isFpsError, resolveRelayConfig, waitForStopSignal, type RelayConfigInput } from '@fastpubsub/core';

const USAGE = `Usage: fastpubsub bridge --config FILE

Runs the NATS and Redis bridges of FILE (a relay config with "bridges": [...], see
docs/bridges.md). The master token may come from env FASTPUBSUB_MASTER_TOKEN instead of the file.
`;

export const command: { summary: string; run(argv: string[]): Promise<number> } = {
  summary: 'run NATS / Redis bridges (a relay config with bridges)',
  async run(argv) {
    let input: RelayConfigInput;
    try {
      const { values } = parseArgs({ args: argv, strict: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
      if (values.help === true) {
        process.stdout.write(USAGE);
        return 0;
      }
      if (values.config === undefined) throw new Error('--config FILE is required');
      const raw = JSON.parse(await readFile(values.config, 'utf8')) as Record<string, unknown>;
      const fromEnv = process.env['FASTPUBSUB_MASTER_TOKEN'];
      if (raw['masterToken'] === undefined && fromEnv !== undefined && fromEnv !== '') raw['masterToken'] = fromEnv;
      const config = resolveRelayConfig(raw);
      if (config.bridges.length === 0) throw new Error(`${values.config}: "bridges" is empty`);
      input = raw as RelayConfigInput;
    } catch (err) {
      process.stderr.write(`fastpubsub bridge: ${isFpsError(err) || err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    const { startRelay } = await import('@fastpubsub/relay');
    const relay = await startRelay(input);
    process.stdout.write(`fastpubsub bridge running ${relay.config.bridges.map((b) => `${b.id} (${b.url})`).join(', ')} on ${relay.httpUrl}\n`);
    const stop = await waitForStopSignal();
    await relay.close({ graceMs: 0 });
    stop.release();
    return 0;
  },
};
