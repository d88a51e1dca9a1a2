import { chmodSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the app keeps its metadata database, secret key and logs: `DG_DATA_DIR`, else the OS's usual
 * place. Root's home is closed to other users, and the embedded PostgreSQL runs as the `postgres`
 * user, so a root process defaults to /var/lib/dataguardian instead.
 */
export function resolveDataDir(explicit?: string): string {
  const chosen = explicit ?? process.env.DG_DATA_DIR;
  let dir: string;
  if (chosen) dir = path.resolve(chosen);
  else if (process.platform === 'win32') dir = path.join(process.env.APPDATA ?? os.homedir(), 'DataGuardian');
  else if (process.platform === 'darwin') dir = path.join(os.homedir(), 'Library', 'Application Support', 'DataGuardian');
  else if (process.getuid?.() === 0) dir = '/var/lib/dataguardian';
  else dir = path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'dataguardian');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // As root the metadata PostgreSQL runs as `postgres`, which must enter this folder (its secrets are 0600 files).
  if (process.getuid?.() === 0) chmodSync(dir, statSync(dir).mode | 0o011);
  return dir;
}
