import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * Starts counting how busy the machine's cores are, all processes together (the database server's work counts,
 * not only ours); the function returned answers the cores kept busy since, on average: 2.0 here means both saturated.
 */
export function coresBusy(): () => number {
  const before = cpuTimes();
  return () => {
    const after = cpuTimes();
    return ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cpus().length;
  };
}

/** Busy and total jiffies of every CPU since boot (/proc/stat), iowait counted as idle. */
function cpuTimes() {
  const n = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}
