import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { identityInput } from './encryption.js';
import { before, execution, verification } from './execution.js';
import { VERIFY_MODES } from './job.js';
import { backupPath, backupTableName } from './toc.js';

/** A database name DataGuardian may create: letters, digits and underscores, as every engine accepts unquoted. */
const databaseName = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'Use letters, digits and underscores (at most 63), not starting with a digit' });

/**
 * `POST /api/backups/:id/restore` (seed). An empty body restores the backup onto its own datasource from
 * the first copy that verifies, after a safety backup of the target.
 */
export const restoreInput = z.object({
  id: uuid,
  /** Restore from this storage's copy only; default: each copy in turn until one verifies. */
  storage_location_id: uuid.nullish(),
  /** Another datasource of the same type; default: the backup's own. */
  target_datasource_id: uuid.nullish(),
  /** postgres, mysql, mariadb: a new database on the target's server, created by the restore. */
  target_database: databaseName.nullish(),
  /** sqlite: the database file to write; files: the folder to extract into. Absolute. */
  target_path: z
    .string()
    .trim()
    .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), { message: 'Must be an absolute path' })
    .nullish(),
  /** Back up the target before overwriting it (the seed's rollback guide, step 2). */
  safety_backup: z.boolean().default(true),
  /** files: replace files that already exist in the target folder. */
  overwrite: z.boolean().default(false),
  /** An encrypted backup the app cannot open itself (write-only): the recovery key, for this restore only. */
  identity: identityInput.nullish(),
  /** files: only these files and folders (paths in the backup, as its Contents list them); default: everything. */
  paths: z
    .array(backupPath.refine((p) => p !== '', { message: 'must name a file or folder of the backup' }))
    .min(1)
    .max(10_000)
    .optional(),
  /**
   * postgres, mysql/mariadb, sqlite: only these tables (as the backup's Contents list them), with what they need
   * (sequences, indexes, constraints, triggers); default: everything.
   */
  tables: z.array(backupTableName).min(1).max(10_000).optional(),
  /**
   * A whole server's backup: the one database to restore, by its real name (into itself after a safety backup,
   * or under `target_database`, a new database).
   */
  database: z.string().min(1).max(255).nullish(),
  /** A whole server's backup: several databases by name, or `all` (into an empty server: the globals first). */
  databases: z.union([z.array(z.string().min(1).max(255)).min(1).max(10_000), z.literal('all')]).nullish(),
  /** Replay the server's roles and grants before the databases; default: only when restoring `all`. */
  globals: z.boolean().nullish(),
});
export type RestoreInput = z.output<typeof restoreInput>;

/** Pins a backup so retention never deletes it; the reason says why, for whoever looks later. */
export const pinInput = z.object({ id: uuid, reason: z.string().trim().max(500, { message: 'A reason is at most 500 characters' }).default('') });

export const verifyInput = z.object({
  id: uuid,
  method: z.enum(VERIFY_MODES).exclude(['none']).default('checksum'),
  /** A restore test of an encrypted backup the app cannot open itself: the recovery key, for this run only. */
  identity: identityInput.nullish(),
});
export type VerifyMethod = z.output<typeof verifyInput>['method'];

export const COPY_AVAILABILITY = ['available', 'missing', 'unreachable', 'unknown'] as const;

/** `GET /api/backups/datasources` (seed): every datasource with completed backups. */
export const backupDatasource = z.object({
  datasource_id: uuid,
  datasource_name: z.string(),
  datasource_type: z.string(),
  /** False for backups imported from storage whose datasource is not configured here. */
  configured: z.boolean(),
  backups_count: z.number().int(),
  last_backup_at: isoDate.nullable(),
  total_stored_bytes: z.number(),
});

/** One backup with each copy checked live against its storage. */
export const backupEntry = execution.extend({
  availability: z.array(z.object({ storage_location_id: uuid, storage_name: z.string(), status: z.enum(COPY_AVAILABILITY), message: z.string().nullable() })),
  verification: verification.nullable(),
});
export type BackupEntry = z.output<typeof backupEntry>;

export const backupDatasourceDetails = backupDatasource.extend({ backups: z.array(backupEntry) });
/** One page of a datasource's backups, newest first; `before` is the last backup of the page shown. */
export const backupsPageInput = z.object({ id: uuid, before, limit: z.coerce.number().int().min(1).max(200).default(50) });

export const markRestoredInput = z.object({
  id: uuid,
  restored_at: isoDate.optional(),
  restored_by: z.string().trim().max(255).optional(),
  reason: z.string().trim().max(2000).optional(),
});

export const importResult = z.object({
  manifests_found: z.number().int(),
  added: z.number().int(),
  already_known: z.number().int(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});
