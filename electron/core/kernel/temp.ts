import { lstat, mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { LEGACY_TEMP_DIRECTORY } from '../../../shared/schemas/settings.js';
import { isAlive } from './instance.js';

/** `dataguardian-<pid>-<random>`: the pid tells a leftover of a dead process from a folder in use. */
const PREFIX = 'dataguardian-';
const OURS = /^dataguardian-(\d+)-[A-Za-z0-9]{6}$/;

// What versions before the private folder left in the shared temp folder after a crash: credential
// files, SQLite copies, restore staging. Only entries older than a day go: an older DataGuardian may
// still be running and using a fresh one.
const LEGACY_LEFTOVER = /^(\.pgpass-|\.my\.cnf-|\.pg-restore-|sqlite-.*\.db$|dataguardian-restore-|dataguardian-verify-)/;
const LEGACY_AGE_MS = 24 * 3600_000;

/** Folders this process made and still uses: a second core in the same process must not sweep them. */
const inUse = new Set<string>();

const uid = () => process.getuid?.();

/**
 * A folder whose files another local user could read, replace or swap for a link is refused. On
 * Windows the data folder is inside the user's profile and the mode bits say nothing.
 */
async function checkPrivate(dir: string): Promise<void> {
  if (uid() === undefined) return;
  const s = await lstat(dir);
  if (!s.isDirectory() || s.isSymbolicLink())
    throw new AppError('conflict', `${dir} is not a folder: remove it, or choose another temporary folder in Settings`);
  if (s.uid !== uid()) throw new AppError('conflict', `${dir} belongs to another user: remove it, or choose another temporary folder in Settings`);
  if ((s.mode & 0o077) !== 0) throw new AppError('conflict', `${dir} can be opened by other users (mode ${(s.mode & 0o777).toString(8)}): remove it`);
}

/** The folder the private one is made in: ours or root's, and where others may write, only with the sticky bit (/tmp). */
async function checkBase(dir: string): Promise<void> {
  if (uid() === undefined) return;
  const s = await lstat(dir);
  const fix = 'choose another temporary folder in Settings → System';
  if (!s.isDirectory() || s.isSymbolicLink()) throw new AppError('validation_error', `The temporary folder ${dir} is not a folder (or is a link): ${fix}`);
  if (s.uid !== uid() && s.uid !== 0) throw new AppError('validation_error', `The temporary folder ${dir} belongs to another user: ${fix}`);
  if ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0) {
    throw new AppError('validation_error', `Other users can rename files in the temporary folder ${dir} (writable, no sticky bit): ${fix}`);
  }
}

/** Removes what dead DataGuardian processes left in `base`; never another user's folder, never one in use. */
async function sweep(base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return;
  }
  for (const name of names) {
    const m = OURS.exec(name);
    if (!m) continue;
    const dir = path.join(base, name);
    if (inUse.has(dir)) continue;
    const pid = Number(m[1]);
    // Our own pid on a folder we did not make: a previous run in a container, where the app is always pid 1.
    if (pid !== process.pid && isAlive(pid)) continue;
    const s = await lstat(dir).catch(() => null);
    if (!s?.isDirectory() || (uid() !== undefined && s.uid !== uid())) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

/** Leftovers of versions that wrote into a shared temp folder: ours, old, and nothing else. */
async function sweepLegacy(dir: string, now: number): Promise<void> {
  const s = await lstat(dir).catch(() => null);
  if (!s?.isDirectory() || (uid() !== undefined && s.uid !== uid())) return;
  for (const name of await readdir(dir).catch(() => [])) {
    if (!LEGACY_LEFTOVER.test(name)) continue;
    const entry = path.join(dir, name);
    const e = await lstat(entry).catch(() => null);
    if (!e || (uid() !== undefined && e.uid !== uid()) || now - e.mtimeMs < LEGACY_AGE_MS) continue;
    await rm(entry, { recursive: true, force: true });
  }
  // Gone when nothing else is in it: a predictable name in /tmp is one another user could take first.
  await rmdir(dir).catch(() => undefined);
}

/**
 * This process's private temporary folder: credential files for the client tools, SQLite copies,
 * restore staging. Made with mkdtemp (0700) under the data folder, or inside the folder Settings
 * name (a big disk for big restores), never a bare shared path; its owner and mode are checked every
 * time it is handed out.
 */
export class PrivateTemp {
  private readonly made = new Map<string, Promise<string>>();

  private constructor(private readonly dataDir: string) {}

  /** Sweeps what earlier processes left behind, in the data folder and in the folder Settings name. */
  static async open(dataDir: string, configured: string | null): Promise<PrivateTemp> {
    const temp = new PrivateTemp(dataDir);
    await sweep(temp.defaultBase());
    const chosen = temp.chosenBase(configured);
    if (chosen) await sweep(chosen);
    await sweepLegacy(LEGACY_TEMP_DIRECTORY, Date.now());
    if (configured && configured !== LEGACY_TEMP_DIRECTORY) await sweepLegacy(configured, Date.now());
    return temp;
  }

  /** The private folder inside `configured` (Settings' `system.temp_directory`), else inside the data folder. */
  async dir(configured: string | null): Promise<string> {
    const base = this.chosenBase(configured) ?? this.defaultBase();
    let made = this.made.get(base);
    if (made) {
      const dir = await made.catch(() => null);
      // A temp cleaner may have removed it while the app ran: then a new one is made.
      if (dir && (await lstat(dir).catch(() => null))) {
        await checkPrivate(dir);
        return dir;
      }
      if (dir) inUse.delete(dir);
    }
    made = this.make(base, !configured || configured === LEGACY_TEMP_DIRECTORY);
    this.made.set(base, made);
    made.catch(() => this.made.delete(base));
    return made;
  }

  /** Removes this process's folders (a crash leaves them to the next start's sweep). */
  async close(): Promise<void> {
    const dirs = await Promise.all([...this.made.values()].map((p) => p.catch(() => null)));
    this.made.clear();
    for (const dir of dirs) {
      if (!dir) continue;
      inUse.delete(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  private defaultBase(): string {
    return path.join(this.dataDir, 'tmp');
  }

  // The old default (/tmp/dataguardian) was stored in every installation's settings: it means "not set".
  private chosenBase(configured: string | null): string | null {
    return configured && configured !== LEGACY_TEMP_DIRECTORY ? path.resolve(configured) : null;
  }

  private async make(base: string, inDataDir: boolean): Promise<string> {
    await mkdir(base, { recursive: true, mode: 0o700 });
    if (inDataDir) await checkPrivate(base);
    else await checkBase(base);
    const dir = await mkdtemp(path.join(base, `${PREFIX}${process.pid}-`));
    inUse.add(dir);
    await checkPrivate(dir);
    return dir;
  }
}
