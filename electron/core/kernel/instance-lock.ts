import { linkSync, lstatSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import { instanceId, instanceState, thisInstance, type InstanceId } from './instance.js';

const LOCK = 'instance.lock';
const holderSchema = instanceId.extend({ url: z.string().nullable() });
type Holder = InstanceId & { url: string | null };

export interface InstanceLock {
  /** Says where this instance can be opened, for the message a second start prints. */
  announce(url: string | null): void;
  release(): void;
}

function readHolder(file: string): Holder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const parsed = holderSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

const same = (a: Holder | 'missing' | 'unreadable', b: Holder | 'unreadable') =>
  a === b || (typeof a === 'object' && typeof b === 'object' && a.machine === b.machine && a.pid === b.pid && a.started_at === b.started_at);

function alreadyRunning(holder: Holder, file: string): AppError {
  const where = [`pid ${holder.pid}`, holder.url ?? 'the desktop app'];
  if (holder.machine !== thisInstance().machine) where.unshift(`on ${holder.host}`);
  const elsewhere = holder.machine === thisInstance().machine ? '' : ` If it no longer runs there, delete ${file} and start again.`;
  return new AppError(
    'already_running',
    `DataGuardian is already running with this data folder (${where.join(', ')}). Open that, or stop it first.${elsewhere}`,
    undefined,
    {
      pid: holder.pid,
      url: holder.url,
    },
  );
}

/** A new file under a name of this process's own: a leftover of an earlier process with the same pid (a container's pid 1) goes first. */
function stage(file: string, holder: Holder): string {
  const staged = `${file}.${process.pid}`;
  rmSync(staged, { force: true });
  writeFileSync(staged, JSON.stringify(holder), { mode: 0o644, flag: 'wx' });
  return staged;
}

/** Writes the file whole under a private name, then links it in: the lock never exists half-written, and never replaces another. */
function createExclusive(file: string, holder: Holder): boolean {
  const staged = stage(file, holder);
  try {
    linkSync(staged, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(staged);
  }
}

/**
 * Moves a dead instance's lock aside. Two starts may judge it dead at once: whoever moved something
 * else (the other's fresh lock) puts it back.
 */
function takeOver(file: string, stale: Holder | 'unreadable'): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  if (!same(readHolder(aside), stale)) {
    try {
      linkSync(aside, file);
    } catch {
      // Someone else's lock is in place already.
    }
  }
  unlinkSync(aside);
}

/**
 * One process per data folder, for the process's life: `instance.lock` names the holder (machine, boot,
 * pid, start time, address). A second start on a held folder refuses before it touches anything; a lock
 * whose holder died (its pid gone, or another boot) is taken over. A holder on another machine (a data
 * folder on a network share) cannot be checked and is never taken over.
 */
export function lockDataDir(dataDir: string): InstanceLock {
  const file = path.join(dataDir, LOCK);
  let mine: Holder = { ...thisInstance(), url: null };
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(file, mine)) break;
    const kind = lstatSync(file, { throwIfNoEntry: false });
    if (kind && !kind.isFile()) throw new AppError('conflict', `${file} is not a file (a folder or a link): remove it and start again`);
    const holder = readHolder(file);
    if (holder === 'missing') continue;
    if (holder !== 'unreadable' && instanceState(holder) !== 'dead') throw alreadyRunning(holder, file);
    if (attempt >= 5) throw new AppError('internal', `Could not take the lock ${file}: another start keeps taking it`);
    takeOver(file, holder);
  }
  const ours = () => same(readHolder(file), mine);
  return {
    announce(url) {
      if (!ours()) return;
      mine = { ...mine, url };
      renameSync(stage(file, mine), file);
    },
    release() {
      if (ours()) unlinkSync(file);
    },
  };
}
