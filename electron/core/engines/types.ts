import type { Readable } from 'node:stream';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';

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

export interface SourceInfo {
  database_version?: string;
  tables_backed_up?: number;
  rows_approximate?: number;
  /** For a progress bar; approximate for databases. */
  size_estimate_bytes?: number | null;
}

export interface DumpResult {
  engine_output: string;
  files_count?: number;
  skipped_files?: number;
}

export interface Dump {
  /** The artifact's raw bytes (a pg_dump custom file, SQL, an SQLite file, a tar). */
  stream: Readable;
  /** Resolves after the tool exited cleanly; rejects with its message otherwise. */
  finished: Promise<DumpResult>;
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
}

export interface RestoreResult {
  engine_output: string;
  /** files: files and symlinks written, counted as the dump counts them. */
  files_count?: number;
  /** sqlite: where the file that was replaced is kept. */
  previous_file?: string;
}

/** Exact counts of what a target holds, for checking a restore. */
export interface Summary {
  tables: number;
  rows: number;
}

export interface Engine {
  inspect(config: ConnectionConfig, options: EngineOptions): Promise<SourceInfo>;
  dump(config: ConnectionConfig, options: EngineOptions): Promise<Dump>;
  /** Writes a decompressed, checksum-verified artifact (a local file) into the target the config names. */
  restore(config: ConnectionConfig, artifactPath: string, options: RestoreOptions): Promise<RestoreResult>;
  /** Exact table and row counts of what the config points at (files: tables = 0, rows = number of files). */
  summarize(config: ConnectionConfig, options: Pick<EngineOptions, 'signal'>): Promise<Summary>;
}
