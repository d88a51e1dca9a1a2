import { z } from 'zod';

/** Rows of one table when it was backed up. `estimated`: not counted in the dump's own snapshot (the server's estimate, or counted beside it). */
export const tableRows = z.object({
  table: z.string().max(1000),
  rows: z.number().int().min(0),
  estimated: z.boolean(),
});
export type TableRows = z.output<typeof tableRows>;

/** A file of a folder backup with its SHA-256 as it was archived: a drill hashes it again after the restore. */
export const fileSample = z.object({ path: z.string().max(4096), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type FileSample = z.output<typeof fileSample>;

/**
 * What a backup records of its content for a later drill to check against, in the catalog and in manifest.json.
 * Bounded: a manifest is read from a storage anyone may have written to.
 */
export const recordedContent = {
  table_rows: z.array(tableRows).max(100_000).optional(),
  /** folders: the bytes of the regular files archived (files_count counts them, links included). */
  files_bytes: z.number().int().min(0).optional(),
  file_samples: z.array(fileSample).max(64).optional(),
};
export const recordedContentSchema = z.object(recordedContent);
export type RecordedContent = z.output<typeof recordedContentSchema>;

/** Which backup of a job a drill takes: the newest, one at random, or the oldest still kept. */
export const DRILL_PICKS = ['latest', 'random', 'oldest'] as const;
export const drillPick = z.enum(DRILL_PICKS);
export type DrillPick = z.output<typeof drillPick>;

/** A job's own check of a restored drill: one SQL query whose first column must be true ("select count(*) > 0 from orders"). */
export const drillAssertion = z.string().trim().min(1, { message: 'An assertion is one SQL query' }).max(10_000);

/** The phases of a drill, in order; their seconds add up to the measured RTO. */
export const DRILL_PHASES = ['download', 'checksums', 'decrypt and decompress', 'restore', 'checks'] as const;

export const drillPhase = z.object({ name: z.enum(DRILL_PHASES), seconds: z.number(), ok: z.boolean(), detail: z.string() });
export type DrillPhase = z.output<typeof drillPhase>;

/** One check of the restored scratch target: row counts, the engine's integrity check, an assertion, a folder's files. */
export const drillCheck = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
export type DrillCheck = z.output<typeof drillCheck>;

/** One storage's copy as the drill found it: every part read and checked, or what is wrong with it ("part-002: checksum mismatch"). */
export const drillCopy = z.object({ storage_name: z.string(), storage_type: z.string(), ok: z.boolean(), parts: z.number(), error: z.string().nullable() });
export type DrillCopy = z.output<typeof drillCopy>;

/** A drill's request, and once it ran, what it found (the execution's metadata besides its log). */
export const drillRun = {
  source_execution_id: z.uuid(),
  /** How the backup was chosen: the job's drill_pick, or `backup` (a test restore of that backup, asked for by hand or after it). */
  pick: z.enum([...DRILL_PICKS, 'backup']),
  backup_taken_at: z.string().optional(),
  copies: z.array(drillCopy).optional(),
  phases: z.array(drillPhase).optional(),
  checks: z.array(drillCheck).optional(),
  /** The sum of the phases: how long a restore of this backup takes, measured. */
  rto_seconds: z.number().optional(),
  /** The backup's age when the drill ran: the data a restore today would lose. */
  rpo_seconds: z.number().optional(),
  /** Encrypted to keys this app does not hold (write-only mode): only the checksums were checked. */
  write_only: z.boolean().optional(),
  /** Where it restored: "database dg_drill_1a2b3c4d on DataGuardian's own PostgreSQL". */
  scratch: z.string().optional(),
  /** What ran: DataGuardian, the source's server, the scratch target's server. */
  tool_versions: z.record(z.string(), z.string()).optional(),
};

/** The last drill of a job, as the job shows it: "Last drill passed 2 days ago · a full restore took 4 min 12 s". */
export const lastDrill = z.object({
  execution_id: z.uuid(),
  status: z.string(),
  at: z.string(),
  rto_seconds: z.number().nullable(),
  error_message: z.string().nullable(),
});
export type LastDrill = z.output<typeof lastDrill>;
