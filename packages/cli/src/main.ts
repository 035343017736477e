// The `fastpubsub` command. Each subcommand lives in its own module under ./commands and is
// loaded only when called, so `fastpubsub pub` never pays for the relay's imports.

import type { Command } from './command.js';

export type { Command };

const commands: Record<string, () => Promise<{ command: Command }>> = {
  relay: () => import('./commands/relay.js'),
  bridge: () => import('./commands/bridge.js'),
  pub: () => import('./commands/pub.js'),
  sub: () => import('./commands/sub.js'),
  token: () => import('./commands/token.js'),
  ping: () => import('./commands/ping.js'),
  control: () => import('./commands/control.js'),
  mesh: () => import('./commands/mesh.js'),
  usage: () => import('./commands/usage.js'),
  agent: () => import('./commands/agent.js'),
  dev: () => import('./commands/dev.js'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('fastpubsub 0.1.0\n');
    return 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`fastpubsub: unknown command '${name}'. Run 'fastpubsub --help' for the list.\n`);
    return 2;
  }
  const { command } = await load();
  return command.run(rest);
}

async function topLevelHelp(): Promise<string> {
  const lines = ['Usage: fastpubsub <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(commands)) {
    let summary = '';
    try {
      summary = (await load()).command.summary;
    } catch {
      continue; // a command whose module is not built yet is simply not listed
    }
    lines.push(`  ${name.padEnd(8)} ${summary}`);
  }
  lines.push('', "Run 'fastpubsub <command> --help' for a command's options.", '');
  return lines.join('\n');
}
