import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';

/**
 * Who a DataGuardian process is, as another process can check it: the machine, the boot, the pid and
 * when that pid started (a pid is reused; the pair is not). Recorded in the data folder's lock and on
 * every run it claims, so a run of a process that died on this machine is recognised at once.
 */
export const instanceId = z.object({
  /** The machine's id (/etc/machine-id), else its host name: two machines never share it, containers of one image may. */
  machine: z.string(),
  host: z.string(),
  /** Changes at every boot (Linux); empty where the system does not tell. */
  boot_id: z.string(),
  pid: z.number().int(),
  /** When the process started, in clock ticks since boot (Linux /proc/<pid>/stat), else null. */
  start_ticks: z.number().nullable(),
  started_at: z.string(),
});
export type InstanceId = z.output<typeof instanceId>;

function readTrimmed(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat; the name (field 2) may hold spaces and parentheses, so count from its end. */
function startTicks(pid: number | 'self'): number | null {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

/** The parent of a process (Linux), or null when it cannot be read. */
export function parentOf(pid: number): number | null {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return null;
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isFinite(ppid) ? ppid : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let self: InstanceId | undefined;

/** This process. */
export function thisInstance(): InstanceId {
  self ??= {
    machine: readTrimmed('/etc/machine-id') ?? readTrimmed('/var/lib/dbus/machine-id') ?? os.hostname(),
    host: os.hostname(),
    boot_id: readTrimmed('/proc/sys/kernel/random/boot_id') ?? '',
    pid: process.pid,
    start_ticks: startTicks('self'),
    started_at: new Date(Date.now() - process.uptime() * 1000).toISOString(),
  };
  return self;
}

/**
 * Whether the process an id names still runs: `other-host` when it ran on another machine (only a
 * lease can tell then), `dead` when this machine rebooted since or the pid is gone or now belongs to
 * a process that started at another time.
 */
export function instanceState(id: InstanceId): 'alive' | 'dead' | 'other-host' {
  const me = thisInstance();
  if (id.machine !== me.machine) return 'other-host';
  if (id.boot_id && me.boot_id && id.boot_id !== me.boot_id) return 'dead';
  if (id.pid === me.pid) return id.start_ticks === me.start_ticks && id.started_at === me.started_at ? 'alive' : 'dead';
  if (!isAlive(id.pid)) return 'dead';
  if (id.start_ticks !== null) {
    const now = startTicks(id.pid);
    if (now !== null && now !== id.start_ticks) return 'dead';
  }
  return 'alive';
}
