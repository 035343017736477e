// Where the web console's static build is (@fastpubsub/console's dist/, made by `npm run
// build`); the control plane serves it at /console/. Undefined when it has not been built.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function consoleDir(): string | undefined {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@fastpubsub/console/package.json')), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}
