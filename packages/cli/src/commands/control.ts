// `fastpubsub control`: the control-plane service lives in @fastpubsub/control; this module
// registers its command under the one `fastpubsub` binary and points it at the web console's
// build (served at /console/) unless --console-dir or a config file says otherwise.
import { command as controlCommand } from '@fastpubsub/control/cli';
import { consoleDir } from './console-dir.js';

export const command: typeof controlCommand = {
  summary: controlCommand.summary,
  run(argv) {
    const given = argv.some((a) => a === '--console-dir' || a.startsWith('--console-dir=') || a === '--config' || a.startsWith('--config=') || a === '-h' || a === '--help');
    const dir = given ? undefined : consoleDir();
    return controlCommand.run(dir === undefined ? argv : [...argv, '--console-dir', dir]);
  },
};
