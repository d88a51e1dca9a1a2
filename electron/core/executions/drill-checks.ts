import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { counted } from '../../../shared/format.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DrillCheck } from '../../../shared/schemas/drill.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import type { SourceInfo } from '../../../shared/schemas/execution.js';
import type { DrillChecks } from '../engines/types.js';

export interface RestoredTarget {
  type: DatasourceType;
  /** The engine's checks; null for a folder. */
  checks: DrillChecks | null;
  config: ConnectionConfig;
  /** What the backup recorded of its content. */
  recorded: SourceInfo;
  /** The job's assertions: SQL whose first column must be true. */
  assertions: string[];
  signal: AbortSignal;
}

/** An estimate (counted beside the dump, or the server's) passes within this share of the recorded rows, or 10 rows. */
const ESTIMATE_SLACK = 0.1;

/** Checks a restored scratch target against what its backup recorded: row counts, the engine's integrity check, the job's assertions; a folder's files. */
export async function checkRestored(t: RestoredTarget): Promise<{ checks: DrillCheck[] }> {
  if (!t.checks) return { checks: await folderChecks(t) };
  const out: DrillCheck[] = [await rowCounts(t, t.checks)];
  const integrity = await t.checks.integrity(t.config, t.signal);
  out.push({ name: integrity.check, ok: integrity.ok, detail: integrity.detail });
  for (const sql of t.assertions) out.push(await assertion(t, t.checks, sql));
  return { checks: out };
}

async function rowCounts(t: RestoredTarget, checks: DrillChecks): Promise<DrillCheck> {
  const restored = await checks.tableRows(t.config, t.signal);
  const name = 'Row counts';
  const recorded = t.recorded.table_rows;
  if (!recorded) {
    // A backup made before counts were recorded: its number of tables is what there is to compare.
    const expected = t.recorded.tables_backed_up;
    const ok = expected === undefined || restored.size === expected;
    return {
      name,
      ok,
      detail: ok
        ? `${counted(restored.size, 'table')} restored (this backup recorded no row counts)`
        : `${counted(restored.size, 'table')} restored, ${expected} recorded`,
    };
  }
  const wrong: string[] = [];
  for (const r of recorded) {
    const n = restored.get(r.table);
    if (n === undefined) wrong.push(`${r.table} is missing`);
    else if (r.estimated ? Math.abs(n - r.rows) > Math.max(10, r.rows * ESTIMATE_SLACK) : n !== r.rows)
      wrong.push(`${r.table} has ${counted(n, 'row')}, ${r.estimated ? 'about ' : ''}${r.rows.toLocaleString()} recorded`);
  }
  const rows = recorded.reduce((n, r) => n + r.rows, 0);
  const estimated = recorded.some((r) => r.estimated);
  return {
    name,
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong.join('; ')
      : `${counted(recorded.length, 'table')}, ${counted(rows, 'row')}, as recorded${estimated ? ' (estimates, within 10%)' : ''}`,
  };
}

const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't' || v === 'true' || v === 1n;

async function assertion(t: RestoredTarget, checks: DrillChecks, sql: string): Promise<DrillCheck> {
  const name = `Assertion “${sql.length > 120 ? `${sql.slice(0, 117)}…` : sql}”`;
  try {
    const value = await checks.assert(t.config, sql, t.signal);
    return { name, ok: truthy(value), detail: truthy(value) ? 'true' : `returned ${value === undefined ? 'no row' : JSON.stringify(value)}, not true` };
  } catch (e) {
    t.signal.throwIfAborted();
    return { name, ok: false, detail: `failed: ${(e as Error).message}` };
  }
}

/** A restored folder: its files and their bytes as recorded, and the sampled files' SHA-256 as they were archived. */
async function folderChecks(t: RestoredTarget): Promise<DrillCheck[]> {
  const root = (t.config as ConnectionConfig<'files'>).source_path;
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      files++;
      bytes += (await lstat(path.join(entry.parentPath, entry.name))).size;
    } else if (entry.isSymbolicLink()) files++;
  }
  const out: DrillCheck[] = [];
  const { files_count: expectedFiles, files_bytes: expectedBytes, file_samples: samples } = t.recorded;
  const filesOk = expectedFiles === undefined || files === expectedFiles;
  out.push({
    name: 'Files',
    ok: filesOk,
    detail: filesOk ? `${counted(files, 'file')}, as recorded` : `${counted(files, 'file')} restored, ${expectedFiles} recorded`,
  });
  if (expectedBytes !== undefined) {
    const ok = bytes === expectedBytes;
    out.push({
      name: 'Bytes',
      ok,
      detail: ok ? `${bytes.toLocaleString()} bytes, as recorded` : `${bytes.toLocaleString()} bytes restored, ${expectedBytes.toLocaleString()} recorded`,
    });
  }
  if (samples?.length) {
    const wrong: string[] = [];
    for (const s of samples) {
      t.signal.throwIfAborted();
      // The sample's path comes from a manifest: it must stay inside the restored folder.
      const file = path.resolve(root, s.path);
      if (!file.startsWith(root + path.sep)) {
        wrong.push(`${s.path} is outside the folder`);
        continue;
      }
      const hash = createHash('sha256');
      try {
        for await (const data of createReadStream(file)) hash.update(data as Buffer);
      } catch {
        wrong.push(`${s.path} is missing`);
        continue;
      }
      if (hash.digest('hex') !== s.sha256) wrong.push(`${s.path} differs from the file archived`);
    }
    out.push({
      name: 'File hashes',
      ok: wrong.length === 0,
      detail: wrong.length ? wrong.join('; ') : `${counted(samples.length, 'sampled file')} match the SHA-256 recorded at backup time`,
    });
  }
  return out;
}
