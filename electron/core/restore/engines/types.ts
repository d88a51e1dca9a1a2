import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { EngineOptions } from '../../engines/types.js';

export interface RestoreOptions {
  /** pg_restore -j; 1 restores in one transaction (all or nothing). */
  parallelJobs: number;
  toolDirs: EngineOptions['toolDirs'];
  /** For 0600 credential files, removed after the run. */
  tempDir: string;
  signal: AbortSignal;
  log: EngineOptions['log'];
  /** postgres/mysql: the target is a new database the restore creates (an existing one is refused). */
  createDatabase: boolean;
  /** files: replace files that exist in the target folder. */
  overwrite: boolean;
}

export interface RestoreResult {
  engine_output: string;
  files_count?: number;
  /** sqlite: where the file that was replaced is kept. */
  previous_file?: string;
}

/** Exact counts of what a target holds, to report and check a restore (files: rows = files). */
export interface Summary {
  tables: number;
  rows: number;
}

/** Writes a verified, decompressed artifact (a local file) into a target, and counts what is there. */
export interface Restorer {
  restore(config: ConnectionConfig, artifactPath: string, options: RestoreOptions): Promise<RestoreResult>;
  summarize(config: ConnectionConfig): Promise<Summary>;
}
