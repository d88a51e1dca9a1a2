import type { Readable as ReadableType } from 'node:stream';
import { Readable } from 'node:stream';
import type { BackupEncryption } from '../../../shared/schemas/encryption.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { BackupMetadata, ServerBackup, SourceInfo } from '../../../shared/schemas/execution.js';
import type { TocReference } from '../../../shared/schemas/toc.js';
import type { backupOptions } from '../../../shared/schemas/job.js';
import type { PartInfo } from '../backup/chunks.js';
import type { Manifest } from '../backup/manifest.js';
import type { DatasourceRow, ExecutionRow, JobRow, StorageRow } from '../db/entities.js';
import type { BackupEngine, EngineOptions } from '../engines/index.js';
import { createAgeEncrypter } from '../kernel/age.js';
import type { Storage } from '../storage/types.js';
import type { Progress, Say } from './report.js';

export type BackupOptions = ReturnType<typeof backupOptions.parse>;

/** Everything a backup run needs, read once at its start: the job, its datasource, storages and options. */
export interface BackupRun {
  row: ExecutionRow;
  request: BackupMetadata;
  startedAt: Date;
  job: JobRow;
  datasource: DatasourceRow;
  storages: StorageRow[];
  options: BackupOptions;
  engine: BackupEngine;
  config: ConnectionConfig;
  engineOptions: EngineOptions;
  /** The keys of this moment: a key added or removed later changes the next backups, never this one. */
  encryption: BackupEncryption | undefined;
  signal: AbortSignal;
  say: Say;
  progress: Progress;
}

/** What one copy wrote into its folder, manifest.json last; the other copies replicate it. */
export interface WrittenCopy {
  /** Every file of the copy, in order (a whole server: the globals, then each database): the backup's chunks. */
  parts: PartInfo[];
  rawBytes: number;
  storedBytes: number;
  /** The artifact the catalog names (a whole server: its globals) and its checksum. */
  artifact: string;
  checksum: string;
  manifest: string;
  source: SourceInfo;
  filesCount: number | null;
  engineOutput: string;
  /** A whole server's backup where some databases failed: the run is `partial`, and says which. */
  partial: string[];
  server?: ServerBackup;
  /** The table of contents' file beside the parts, copied with them. */
  toc?: TocReference;
}

/** Writes one copy of the backup into `folder` on a storage; the same writer serves every attempt (fallback). */
export type CopyWriter = (storage: Storage, folder: string) => Promise<WrittenCopy>;

/** The one backup pipeline's options for an artifact written into `folder` on `storage` (its source and name apart). */
export async function pipelineOptions(run: BackupRun, storage: Storage, folder: string) {
  const { options, encryption, signal } = run;
  return {
    compression: options.compression,
    level: options.compression_level,
    encrypter: encryption ? await createAgeEncrypter(encryption.recipients) : undefined,
    maxPartBytes: options.max_file_size_mb ? options.max_file_size_mb * 1024 * 1024 : undefined,
    put: (name: string, body: ReadableType) => storage.put(`${folder}/${name}`, body, { signal }),
    rename: (from: string, to: string) => storage.rename(`${folder}/${from}`, `${folder}/${to}`),
    signal,
  };
}

/** Written last: a folder without manifest.json is not a backup. Answers the text written. */
export async function putManifest(storage: Storage, folder: string, manifest: Manifest, signal: AbortSignal): Promise<string> {
  const text = JSON.stringify(manifest, null, 2);
  await storage.put(`${folder}/manifest.json`, Readable.from([text]), { signal });
  return text;
}
