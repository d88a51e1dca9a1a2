import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { uuid } from '../../../shared/schemas/common.js';
import type { Verification } from '../../../shared/schemas/restore.js';
import { joinParts, locateBackup } from '../backup/artifact.js';
import type { RunExecution } from '../backup/queue.js';
import { createReporter, failureOf, type Say } from '../backup/report.js';
import { BackupExecutions, Datasources } from '../db/entities.js';
import { engineFor } from '../engines/index.js';
import { mysqlConnection } from '../engines/mysql.js';
import { pgClient } from '../engines/postgres.js';
import { notify } from '../notify/inbox.js';
import type { ServiceContext } from '../services/context.js';
import { readSettings, toolDirs } from '../services/settings.js';
import { openSavedStorage } from '../services/storages.js';
import { fetchVerified } from './fetch.js';
import { backupTypeOf } from './target.js';

const verifyRequest = z.object({ operation: z.literal('verify'), source_execution_id: uuid, method: z.enum(['checksum', 'restore-test']) });

interface Outcome {
  ok: boolean;
  message: string;
  tables: number | null;
  rows: number | null;
  copies: Verification['copies'];
}

/**
 * Runs one verify execution and keeps the result on the backup (`metadata.verification`):
 * `checksum` reads every part back from every storage; `restore-test` restores into a scratch target,
 * counts tables and rows, and drops the scratch target.
 */
export function createVerifyRunner(ctx: ServiceContext): RunExecution {
  return async function runVerify(row, signal) {
    const startedAt = row.started_at ?? new Date();
    const { logs, say, progress, ended, announce } = createReporter(ctx, row, startedAt);
    const executions = ctx.db.getRepository(BackupExecutions);
    const request = verifyRequest.parse(row.metadata);
    let outcome: Outcome;
    let stack: string | null = null;
    try {
      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      outcome = request.method === 'checksum' ? await checksums(ctx, request.source_execution_id, signal, say) : await restoreTest(ctx, request.source_execution_id, signal, say, progress);
    } catch (e) {
      const failure = failureOf(e, signal);
      outcome = { ok: false, message: failure.message, tables: null, rows: null, copies: [] };
      stack = failure.stack;
    }
    say(outcome.ok ? 'info' : 'error', outcome.message);
    const end = ended(signal.aborted ? 'cancelled' : outcome.ok ? 'completed' : 'failed');
    const { status } = end;
    const verification: Verification = { execution_id: row.id, method: request.method, at: end.finished_at.toISOString(), ...outcome };
    const source = await executions.findOneBy({ id: request.source_execution_id });
    await ctx.db.transaction(async (m) => {
      await m.getRepository(BackupExecutions).update(row.id, {
        ...end,
        error_message: outcome.ok ? null : outcome.message,
        error_stack: stack,
        metadata: { ...request, job_name: source?.metadata?.job_name ?? null, datasource_name: source?.metadata?.datasource_name ?? null, verification, execution_logs: logs } as never,
      });
      // A cancelled check proves nothing either way: the backup keeps its previous verdict.
      if (source && status !== 'cancelled') {
        await m.getRepository(BackupExecutions).update(source.id, { metadata: { ...(source.metadata ?? {}), verification } as never });
      }
    });
    announce(status, outcome.ok ? null : outcome.message);
    if (status === 'failed') {
      await notify(ctx, {
        type: 'backup_failed',
        severity: 'critical',
        entity_type: row.job_id ? 'backup_job' : 'system',
        entity_id: row.job_id ?? row.id,
        title: `A backup failed verification (${request.method})`,
        message: outcome.message,
        metadata: { execution_id: row.id, source_execution_id: request.source_execution_id, operation: 'verify' },
      }).catch(() => undefined);
    }
  };
}

/** Every part of every copy read back and hashed; one bad copy fails the check and is named. */
async function checksums(ctx: ServiceContext, backupId: string, signal: AbortSignal, say: Say): Promise<Outcome> {
  const { copies } = await locateBackup(ctx, backupId);
  if (copies.length === 0) return { ok: false, message: 'This backup has no completed copy to check', tables: null, rows: null, copies: [] };
  const results: Verification['copies'] = [];
  for (const copy of copies) {
    try {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      await pipeline(joinParts(openSavedStorage(ctx, copy.storage), copy.chunks), sink, { signal });
      results.push({ storage_name: copy.storage.name, ok: true, error: null });
      say('info', `${copy.storage.name}: all ${copy.chunks.length} file(s) match their SHA-256`);
    } catch (e) {
      if (signal.aborted) throw e;
      results.push({ storage_name: copy.storage.name, ok: false, error: (e as Error).message });
      say('error', `${copy.storage.name}: ${(e as Error).message}`);
    }
  }
  const bad = results.filter((r) => !r.ok);
  return {
    ok: bad.length === 0,
    message: bad.length ? `Damaged or unreadable: ${bad.map((b) => `${b.storage_name} (${b.error})`).join('; ')}` : `Every file of ${results.length} cop${results.length === 1 ? 'y' : 'ies'} matches its SHA-256`,
    tables: null,
    rows: null,
    copies: results,
  };
}

/** Restores into a scratch target nobody uses, counts what arrived, and removes the scratch target. */
async function restoreTest(ctx: ServiceContext, backupId: string, signal: AbortSignal, say: Say, progress: ReturnType<typeof createReporter>['progress']): Promise<Outcome> {
  const settings = await readSettings(ctx);
  const tempDir = settings['system.temp_directory'];
  const fetched = await fetchVerified(ctx, backupId, { tempDir, signal, say, progress });
  const scratchDir = await mkdtemp(path.join(tempDir, 'dataguardian-verify-'));
  try {
    const type = await backupTypeOf(ctx, fetched.backup);
    const engine = engineFor(type);
    const scratch = await scratchTarget(ctx, type, fetched.backup.datasource_id, scratchDir);
    say('info', `Restoring into a scratch target: ${scratch.description}`);
    progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
    try {
      await engine.restore(scratch.config, fetched.rawPath, { parallelJobs: 1, toolDirs: toolDirs(settings), tempDir, signal, log: say, createDatabase: scratch.createDatabase, overwrite: false });
      progress({ stage: 'check', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const summary = await engine.summarize(scratch.config, { signal });
      const expected = typeof fetched.backup.metadata?.tables_backed_up === 'number' ? fetched.backup.metadata.tables_backed_up : null;
      const ok = expected === null || summary.tables === expected;
      return {
        ok,
        message: ok
          ? `Restored from ${fetched.copy.storage_name}: ${summary.tables} table(s), ${summary.rows} row(s)${type === 'files' ? ' (files)' : ''}`
          : `The restore holds ${summary.tables} table(s) but the backup recorded ${expected}`,
        tables: summary.tables,
        rows: summary.rows,
        copies: [{ storage_name: fetched.copy.storage_name, ok: true, error: null }],
      };
    } finally {
      await scratch.drop().catch((e: Error) => say('warn', `Could not remove the scratch target: ${e.message}`));
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
    await fetched.cleanup();
  }
}

interface Scratch {
  config: ConnectionConfig;
  description: string;
  createDatabase: boolean;
  drop(): Promise<void>;
}

/**
 * postgres: a throwaway database on the metadata PostgreSQL (embedded by default), so the user's
 * server is not touched; mysql/mariadb: a scratch schema on the backup's own server, when it lets us
 * create one; sqlite and files: a temp file or folder.
 */
async function scratchTarget(ctx: ServiceContext, type: DatasourceType, datasourceId: string | null, dir: string): Promise<Scratch> {
  const name = `dg_verify_${randomBytes(4).toString('hex')}`;
  if (type === 'postgres') {
    const url = new URL((ctx.db.options as { url?: string }).url ?? '');
    const config: ServerConnectionConfig = {
      host: url.hostname,
      port: Number(url.port || 5432),
      database: name,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      ssl_enabled: false,
    };
    return {
      config,
      description: `database ${name} on DataGuardian's own PostgreSQL`,
      createDatabase: true,
      async drop() {
        const client = pgClient(config, 'postgres');
        await client.connect();
        try {
          await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
    };
  }
  if (type === 'mysql' || type === 'mariadb') {
    const ds = datasourceId ? await ctx.db.getRepository(Datasources).findOneBy({ id: datasourceId }) : null;
    if (!ds) throw new AppError('not_found', 'A restore test of a MySQL/MariaDB backup needs its datasource (the server to create a scratch schema on)');
    const config = { ...(ctx.secrets.openConfig(ds.connection_config) as ServerConnectionConfig), database: name };
    return {
      config,
      description: `scratch schema ${name} on ${ds.name}`,
      createDatabase: true,
      async drop() {
        const conn = await mysqlConnection(config, null);
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        } finally {
          await conn.end();
        }
      },
    };
  }
  if (type === 'sqlite') return { config: { file_path: path.join(dir, 'restore-test.db') }, description: 'a temporary file', createDatabase: false, drop: async () => undefined };
  if (type === 'files') {
    return { config: { source_path: path.join(dir, 'files'), include_patterns: [], exclude_patterns: [] }, description: 'a temporary folder', createDatabase: false, drop: async () => undefined };
  }
  throw new AppError('unsupported', `Restore tests of ${type} backups are not supported yet`);
}

