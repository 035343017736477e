// Files that hold secrets or keys (token stores, signing keys, TLS keys) are created private:
// directories 0700, files 0600. At start-up an existing one that other users can read or write
// is refused with a clear error instead of being used: on a shared host such a file lets any
// local user mint or steal credentials. (POSIX modes only; skipped on Windows.)
import { stat } from 'node:fs/promises';
import { ErrorCode, FpsError } from './errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
const GROUP_OR_OTHER = 0o077;

/** Throws ConfigInvalid if `path` exists and grants any permission to group or others. */
export async function assertPrivate(path: string, what: string): Promise<void> {
  if (process.platform === 'win32') return;
  let mode: number;
  let isDir: boolean;
  try {
    const st = await stat(path);
    mode = st.mode & 0o777;
    isDir = st.isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & GROUP_OR_OTHER) === 0) return;
  const want = isDir ? '700' : '600';
  throw new FpsError(
    ErrorCode.ConfigInvalid,
    `${what} ${path} is accessible to other users (mode ${mode.toString(8).padStart(3, '0')}); it holds secrets. Run: chmod ${want} '${path}'`,
    { detail: path },
  );
}
