// Placeholder until the 'sub' command lands; replaced by its real implementation.
import type { Command } from '../main.js';

export const command: Command = {
  summary: '(not available yet)',
  run: async () => {
    process.stderr.write("fastpubsub: 'sub' is not available in this build\n");
    return 1;
  },
};
