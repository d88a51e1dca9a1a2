import { duration, fromNow } from './format.js';
import type { LastDrill } from './schemas/drill.js';

/**
 * The last drill of a job in one line: "Last drill passed 2 days ago · a full restore took 4 min 12 s",
 * "Last drill failed 3 hours ago: checksums: part-002 on Backblaze: checksum mismatch", or "No drill yet".
 */
export function lastDrillText(d: LastDrill | null, now = Date.now()): string {
  if (!d) return 'No drill yet';
  const when = fromNow(d.at, now);
  if (d.status !== 'completed') return `Last drill failed ${when}${d.error_message ? `: ${d.error_message}` : ''}`;
  if (d.rto_seconds === null) return `Last drill passed ${when} · checksums only (write-only mode)`;
  return `Last drill passed ${when} · a full restore took ${duration(d.rto_seconds)}`;
}
