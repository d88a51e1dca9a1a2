import type { Readable } from 'node:stream';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { RecordedContent } from '../../../shared/schemas/drill.js';
import type { SourceInfo } from '../../../shared/schemas/execution.js';
import type { Toc } from '../../../shared/schemas/toc.js';
import type { Probe } from './probe.js';

export type { SourceInfo };

export interface EngineOptions {
  /** Table names or globs (`logs_*`); empty = all tables. */
  includeTables: string[];
  excludeTables: string[];
  parallelJobs: number;
  /** DataGuardian compresses the stream, so the tool must not (data is compressed once). */
  compressedByPipeline: boolean;
  /** Settings' overrides of where the client tools live. */
  toolDirs: { postgres?: string | null; mysql?: string | null; mongodb?: string | null };
  /** For 0600 credential files, removed after the run. */
  tempDir: string;
  signal: AbortSignal;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** What the engine learns of its source before the dump: kept with the backup, plus a size for the progress bar. */
export type Inspection = SourceInfo & {
  /** Approximate for databases. */
  size_estimate_bytes?: number | null;
};

export interface DumpResult {
  engine_output: string;
  /** What the dump itself counted (rows in its snapshot, a folder's bytes and sample hashes), kept with the backup for drills. */
  recorded?: RecordedContent;
  files_count?: number;
  skipped_files?: number;
}

export interface Dump {
  /** The artifact's raw bytes (a pg_dump custom file, SQL, an SQLite file, a tar). */
  stream: Readable;
  /** Resolves after the tool exited cleanly; rejects with its message otherwise. */
  finished: Promise<DumpResult>;
}

/**
 * What a restore reads: a backup's artifact (a pg_dump archive, SQL, an SQLite file, a tar) once every
 * checksum of its copy matched. A tool that reads its input once takes it as a stream, decoded
 * (decrypted, decompressed) as it goes; one that seeks (pg_restore --jobs, SQLite) asks for a file.
 */
export interface RestoreSource {
  /** The artifact from its first byte; each call is a new stream. */
  open(): Readable;
  /** The artifact as a local file: written into the run's private folder on the first ask when it is not one already. */
  file(): Promise<string>;
}

export interface RestoreOptions {
  /** pg_restore -j; 1 restores in one transaction (all or nothing). */
  parallelJobs: number;
  toolDirs: EngineOptions['toolDirs'];
  /** For 0600 credential files, removed after the run. */
  tempDir: string;
  /** Abort kills the tool. */
  signal: AbortSignal;
  log: EngineOptions['log'];
  /** postgres/mysql: create the target database first; one that already exists is refused. */
  createDatabase: boolean;
  /** files: replace files that already exist in the target folder (otherwise refuse and name the first one). */
  overwrite: boolean;
  /** What the backup recorded of its source (a new MariaDB database takes the source's collation). */
  source: SourceInfo;
  /** postgres: the objects keep their owners of the backup (no --no-owner); the login must be able to become them. */
  keepOwners?: boolean;
  /** A restore of chosen tables calls this just before it first writes to the target (until then, a failure touched nothing). */
  touching?: () => void;
}

export interface RestoreResult {
  engine_output: string;
  /** files: files and symlinks written, counted as the dump counts them. */
  files_count?: number;
  /** sqlite: where the file that was replaced is kept. */
  previous_file?: string;
  /** A restore of chosen tables: what it left out, and why (a foreign key to a table not chosen). */
  left_out?: string[];
}

/** One table's columns and rows as text (null: SQL NULL), read from a backup's artifact. */
export interface TableRows {
  columns: string[];
  rows: AsyncIterable<(string | null)[]>;
}

/** Counts of what a target holds, for checking a restore. */
export interface Summary {
  tables: number;
  rows: number;
  /** The rows are the server's estimate (pg_class.reltuples, information_schema TABLE_ROWS), not counted. */
  estimated?: boolean;
}

export interface SummarizeOptions extends Pick<EngineOptions, 'signal'> {
  /**
   * The server's row estimates instead of counting every row: counting reads the whole database again,
   * which only a restore test (whose point is checking what arrived) pays for. Files and SQLite count anyway (cheap).
   */
  estimate?: boolean;
}

/** Where a restore writes, as the user asked: the datasource itself, a new database on its server, another path. */
export interface TargetRequest {
  target_database: string | null;
  target_path: string | null;
}

export interface RestoreTarget {
  config: ConnectionConfig;
  /** What a user reads: "database shop_copy on Shop server", "/srv/app.db". */
  description: string;
  /** A new database the restore creates: nothing existing is overwritten. */
  createDatabase: boolean;
  /** The datasource's own data is replaced (a safety backup makes sense). */
  replacesDatasource: boolean;
}

/** Watches the raw bytes of a dump as they stream and says what they hold once they end. */
export interface TocRecorder {
  observe(chunk: Buffer): void;
  finish(): Promise<Omit<Toc, 'frames' | 'raw_bytes' | 'version'>>;
}

/** A place nobody uses, for a restore test: restored into, counted, dropped. */
export interface Scratch {
  config: ConnectionConfig;
  description: string;
  createDatabase: boolean;
  drop(): Promise<void>;
}

export interface ScratchRequest {
  /** A name no one else uses (`dg_drill_…`). */
  name: string;
  /** A private temporary folder, removed afterwards. */
  dir: string;
  /** DataGuardian's own PostgreSQL (a restore test of a PostgreSQL backup leaves the user's server alone). */
  metadataUrl: string;
  /** The backup's datasource, opened; null when it is not configured here. */
  sourceConfig: ConnectionConfig | null;
  sourceName: string | null;
}

/**
 * One kind of datasource. Everything DataGuardian knows of an engine is in its folder; adding one is
 * a new folder and a line in `engines/index.ts`.
 */
export interface Engine {
  /** The product's name, for messages. */
  label: string;
  /** The artifact's format on storage: `backup.<format>.<compression>` (seed: dump, sql, db, tar...). */
  format: string;
  /** Connect, run the smallest query, read what the server tells: Test connection and health checks. */
  probe(config: ConnectionConfig, timeoutMs: number): Promise<Probe>;
}

/** A database a server holds, as discovery lists it. */
export interface ServerDatabase {
  name: string;
  /** Null where the login may not read it (no CONNECT on a PostgreSQL database). */
  size_bytes: number | null;
}

/** The server's own objects beside its databases: roles, memberships, grants, tablespaces. */
export interface GlobalsDump extends Dump {
  /** What the globals leave out and why ("role passwords: the login cannot read them"); said in the run. */
  notes: string[];
}

/** "Every database on this server": what an engine that backs up whole servers adds (PostgreSQL, MySQL/MariaDB). */
export interface ServerEngine {
  /** Every database of the server the login can see, system ones included (the patterns pick among them). */
  listDatabases(config: ConnectionConfig, signal: AbortSignal): Promise<ServerDatabase[]>;
  /** The server's globals as SQL (pg_dumpall --globals-only; MySQL's CREATE USER and GRANT statements). */
  dumpGlobals(config: ConnectionConfig, options: EngineOptions): Promise<GlobalsDump>;
  /**
   * Replays a globals SQL file (a local, verified, decompressed one) on the server; existing roles or users are kept.
   * `before` the databases are restored (roles, users), then `after` (MySQL's grants name tables that must exist).
   */
  restoreGlobals(config: ConnectionConfig, sqlPath: string, options: RestoreOptions, phase: 'before' | 'after'): Promise<RestoreResult>;
  /**
   * Creates the database `config` names as the backup `source` of it holds it (owner, encoding, settings, grants on
   * the database), from a local verified artifact, before its contents are restored into it. Absent, or null for an
   * artifact it cannot read that from: the engine's restore creates the database.
   */
  recreateDatabase?(config: ConnectionConfig, artifact: RestoreSource, source: string, options: RestoreOptions): Promise<RecreatedDatabase | null>;
}

/** A database created as its backup holds it. */
export interface RecreatedDatabase {
  /** The login may become every owner of the backup's objects: they keep them. */
  keepOwners: boolean;
  /** Its owner, settings and grants, once its contents are in. */
  finish(): Promise<void>;
}

/** An engine that backs up and restores. */
export interface BackupEngine extends Engine {
  /** The artifact's format for these options, when they change it (postgres with parallel jobs: `dir.tar`); else `format`. */
  formatOf?(options: Pick<EngineOptions, 'parallelJobs'>): string;
  inspect(config: ConnectionConfig, options: EngineOptions): Promise<Inspection>;
  dump(config: ConnectionConfig, options: EngineOptions): Promise<Dump>;
  /** Writes a checksum-verified artifact into the target the config names. */
  restore(config: ConnectionConfig, source: RestoreSource, options: RestoreOptions): Promise<RestoreResult>;
  /**
   * Only the chosen tables of a decompressed, checksum-verified artifact (named as the backup's Contents list them),
   * with what they need; what they point at outside the choice is left out and said. Absent: whole restores only.
   */
  restoreTables?(config: ConnectionConfig, artifactPath: string, tables: string[], options: RestoreOptions): Promise<RestoreResult>;
  /** One table's rows, read from a decompressed, checksum-verified artifact (for a CSV export); absent: not offered. */
  tableRows?(artifactPath: string, table: string, options: Pick<RestoreOptions, 'tempDir' | 'toolDirs' | 'signal'>): Promise<TableRows>;
  /** Table and row counts of what the config points at, exact unless `estimate` (files: tables = 0, rows = number of files). */
  summarize(config: ConnectionConfig, options: SummarizeOptions): Promise<Summary>;
  /** Where a restore writes; refuses a request that does not fit this engine (a path for a database...). */
  target(config: ConnectionConfig, datasourceName: string, request: TargetRequest): RestoreTarget;
  scratch(request: ScratchRequest): Promise<Scratch>;
  /** Watches the dump's raw bytes and says what it holds (the backup's table of contents); absent: no table of contents. */
  contents?(config: ConnectionConfig, options: EngineOptions): TocRecorder | null;
}

/** One integrity check of a restored scratch target, as a drill reports it. */
export interface IntegrityVerdict {
  /** What ran: "PRAGMA integrity_check", "CHECK TABLE", "amcheck", "a full read of every table". */
  check: string;
  ok: boolean;
  detail: string;
}

/** What a drill asks of an engine about a scratch target it restored into (engines/<engine>/drill.ts). */
export interface DrillChecks {
  /** Each table's exact row count, named as the backup recorded them. */
  tableRows(config: ConnectionConfig, signal: AbortSignal): Promise<Map<string, number>>;
  integrity(config: ConnectionConfig, signal: AbortSignal): Promise<IntegrityVerdict>;
  /** The first column of the first row of a job's assertion, run read-only with no more rights than reading the tables. */
  assert(config: ConnectionConfig, sql: string, signal: AbortSignal): Promise<unknown>;
}
