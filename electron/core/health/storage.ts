import { bytes, gigabytes } from '../../../shared/format.js';
import type { StorageStatus } from '../../../shared/schemas/enums.js';
import type { StorageTestResult } from '../../../shared/schemas/storage.js';
import { openSavedStorage } from '../catalog/storages.js';
import { StorageLocations, type StorageRow } from '../db/entities.js';
import type { Settings } from '../../../shared/schemas/settings.js';
import type { Storage } from '../storage/types.js';
import { duration, observe, type Condition, type Notice } from './conditions.js';
import { answerWithin, type HealthContext } from './datasource.js';

const GB = 1024 ** 3;
const HOUR = 3_600_000;
/** A storage must keep room for this many times the largest backup written there lately. */
const ROOM_FACTOR = 1.5;
/** "Recent" backups, for the room a storage must keep. */
const RECENT_MS = 30 * 24 * HOUR;
/** A storage test writes, reads back and deletes a small file; a storage that takes longer is unreachable. */
const STORAGE_TIMEOUT_MS = 30_000;

/**
 * Checks one storage: reachable (the storage test: write, read back, delete), its free space where it
 * can tell (local and SFTP; S3 cannot), and whether it is full: less free space than 1.5x the largest
 * recent backup written there, or a local folder over its `max_size_gb`. Status, free space and the
 * `storage_unreachable` / `storage_full` conditions follow.
 */
export async function checkStorage(ctx: HealthContext, row: StorageRow, settings: Settings): Promise<void> {
  const now = ctx.clock.now();
  const storage = openSavedStorage(ctx, row);
  try {
    const test = await answerWithin(storage.test(), STORAGE_TIMEOUT_MS, (): StorageTestResult => {
      void storage.close().catch(() => undefined);
      return { ok: false, latency_ms: null, available_space_gb: null, message: `No answer in ${STORAGE_TIMEOUT_MS / 1000} s` };
    });
    const full = test.ok ? await fullness(ctx, row, storage, now) : null;
    const status: StorageStatus = !test.ok ? 'unreachable' : full ? 'full' : 'healthy';
    const previous = row.status;
    // An unreachable storage keeps the free space last seen: "unknown now" is told by its status.
    const space = test.ok ? test.available_space_gb : row.available_space_gb === null ? null : Number(row.available_space_gb);
    await ctx.db.getRepository(StorageLocations).update(row.id, { status, available_space_gb: space === null ? null : String(space) });
    if (status !== previous) {
      ctx.events.emit('storage.status', { storage_id: row.id, status, previous, available_space_gb: space });
      ctx.events.emit('entity.changed', { entity: 'storage', id: row.id, action: 'updated' });
    }
    const cooldownMs = settings['notifications.reminder_cooldown_hours'] * HOUR;
    await observe(ctx, {
      kind: 'storage_unreachable',
      entity_id: row.id,
      level: test.ok ? null : 'critical',
      now,
      cooldownMs,
      message: (notice, was) => unreachableMessage(row, test.message, notice, was, now),
    });
    // Whether an unreachable storage is full is not known: its condition stays as it was.
    if (test.ok) {
      await observe(ctx, {
        kind: 'storage_full',
        entity_id: row.id,
        level: full ? 'warning' : null,
        now,
        cooldownMs,
        message: (notice, was) => fullMessage(row, full, notice, was, now),
      });
    }
  } finally {
    await storage.close().catch(() => undefined);
  }
}

/** Why the storage is full, or null when it has room. */
async function fullness(ctx: HealthContext, row: StorageRow, storage: Storage, now: Date): Promise<string | null> {
  const maxGb = row.type === 'local' ? (row.config as { max_size_gb?: number }).max_size_gb : undefined;
  if (maxGb !== undefined) {
    const used = (await storage.list('')).reduce((sum, o) => sum + o.size, 0);
    if (used > maxGb * GB) return `its backups use ${bytes(used)}, over its limit of ${gigabytes(maxGb)}`;
  }
  const free = await storage.freeSpaceBytes();
  if (free === null) return null;
  const [{ largest }] = (await ctx.db.query(
    `SELECT coalesce(max(coalesce(e.compressed_size_bytes, e.size_bytes)), 0)::float8 AS largest
       FROM backup_copies c JOIN backup_executions e ON e.id = c.execution_id
      WHERE c.storage_location_id = $1 AND c.status = 'completed' AND e.operation = 'backup' AND e.finished_at > $2`,
    [row.id, new Date(now.getTime() - RECENT_MS)],
  )) as [{ largest: number }];
  if (largest > 0 && free < ROOM_FACTOR * largest) {
    return `only ${bytes(free)} free, less than ${ROOM_FACTOR}× its largest recent backup (${bytes(largest)}): the next backup may not fit`;
  }
  return null;
}

export function unreachableMessage(row: StorageRow, why: string, notice: Notice, was: Condition | null, now: Date) {
  const base = { type: 'storage_unreachable', entity_type: 'storage_location' as const, entity_id: row.id };
  const since = was ? ` (for ${duration(was.raised_at.getTime(), now.getTime())})` : '';
  if (notice === 'cleared')
    return { ...base, severity: 'info' as const, title: `Storage reachable again: ${row.name}`, message: `${row.name} answers again${since}.` };
  return {
    ...base,
    severity: 'critical' as const,
    title: `${notice === 'reminder' ? 'Still: ' : ''}Storage unreachable: ${row.name}`,
    message: `${row.name} cannot be written to${since}: ${why} Backups to it fail until it answers.`,
  };
}

export function fullMessage(row: StorageRow, why: string | null, notice: Notice, was: Condition | null, now: Date) {
  const base = { type: 'storage_full', entity_type: 'storage_location' as const, entity_id: row.id };
  const since = was ? ` (for ${duration(was.raised_at.getTime(), now.getTime())})` : '';
  if (notice === 'cleared')
    return { ...base, severity: 'info' as const, title: `Storage has room again: ${row.name}`, message: `${row.name} has room again${since}.` };
  return {
    ...base,
    severity: 'warning' as const,
    title: `${notice === 'reminder' ? 'Still: ' : ''}Storage full: ${row.name}`,
    message: `${row.name} is full${since}: ${why}. Free space, raise its limit, or let retention delete older backups.`,
  };
}
