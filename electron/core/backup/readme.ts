import type { Compression } from '../../../shared/schemas/enums.js';

const DECOMPRESS: Record<Compression, string | null> = { gzip: 'gunzip', zstd: 'zstd -d', lz4: 'lz4 -d', none: null };

/** How the plain artifact goes back, by the tool a person already has for that kind of datasource. */
function restoreStep(type: string, plain: string, directory: boolean): string[] {
  if (type === 'postgres') {
    return directory
      ? [`mkdir dump && tar -xf ${plain} -C dump`, 'createdb newdb && pg_restore --no-owner -j 4 -d newdb dump']
      : [`createdb newdb && pg_restore --no-owner -d newdb ${plain}`];
  }
  if (type === 'mysql' || type === 'mariadb') return [`mysql -e 'CREATE DATABASE newdb' && mysql newdb < ${plain}`];
  if (type === 'sqlite') return [`cp ${plain} /path/to/the/database.db   (with the application that uses it stopped)`];
  if (type === 'files') return [`mkdir restored && tar -xf ${plain} -C restored`];
  return [`${plain} is the dump tool's own format: load it with that tool`];
}

/**
 * The README.txt in each job's folder on a storage: which job and datasource the folder (named by the
 * job's id, as the seed lays it out) belongs to, and how to restore a backup by hand with standard tools.
 */
export function jobReadme(a: {
  jobId: string;
  jobName: string;
  datasourceName: string;
  datasourceType: string;
  /** The artifact's name as the job writes it now, e.g. backup.tar.zst, backup.dir.tar.zst or backup.dump.zst.age. */
  artifact: string;
  compression: Compression;
}): string {
  const encrypted = a.artifact.endsWith('.age');
  const compressed = encrypted ? a.artifact.slice(0, -'.age'.length) : a.artifact;
  const decompress = DECOMPRESS[a.compression];
  const plain = decompress ? compressed.replace(/\.[^.]+$/, '') : compressed;
  const directory = a.artifact.startsWith('backup.dir.');
  const steps = [
    `cat ${a.artifact}.part-* > ${a.artifact}      (only when the backup was split into parts)`,
    `sha256sum ${a.artifact}      the same as "checksum" in manifest.json (each part's is in "chunks")`,
    ...(encrypted
      ? [`age -d -i dataguardian-recovery-key.txt -o ${compressed} ${a.artifact}      (encrypted: the recovery key, or any key manifest.json names)`]
      : []),
    ...(decompress ? [`${decompress} ${compressed}`] : []),
    ...restoreStep(a.datasourceType, plain, directory),
  ];
  return [
    `DataGuardian backups of the job "${a.jobName}"`,
    `Datasource: ${a.datasourceName} (${a.datasourceType})`,
    `Job id: ${a.jobId}`,
    '',
    'Each folder here is one backup, named by the time it started (UTC): YYYY-MM-DD_HHmmss.',
    'It holds the backup file (split into .part-001, .part-002, ... when large) and manifest.json,',
    'which is written last: a folder without manifest.json is not a complete backup.',
    '',
    'To restore by hand, without DataGuardian, in a copy of a backup folder:',
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
    '',
    'DataGuardian itself restores any of them in one click (Backups), and finds them again after a',
    'reinstall with Storage → Import from storage. This file is rewritten when the job changes.',
    '',
  ].join('\n');
}
