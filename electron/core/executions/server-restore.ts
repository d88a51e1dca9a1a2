import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { BackupMetadata, RestoreMetadata } from '../../../shared/schemas/execution.js';
import type { RestoreInput } from '../../../shared/schemas/restore.js';
import { counted } from '../../../shared/format.js';
import { holdings } from '../../../shared/words.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { locateBackup } from '../catalog/locate.js';
import { isWholeServer } from '../catalog/server-databases.js';
import { Datasources, type DatasourceRow } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { backupEngineFor, serverEngineFor } from '../engines/index.js';
import type { RestoreOptions, RestoreSource } from '../engines/types.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { restoreCompleted, restoreFailed } from '../notify/messages.js';
import { fetchVerified } from './fetch.js';
import { failureOf } from './report.js';
import { safetyBackup, type RunInside } from './restore.js';
import type { RunKeys } from './run-keys.js';
import type { Work } from './runner.js';

/** A new database made as the backup holds it (owner, settings, grants on it), where the engine can; else null. */
function recreateAsBackedUp(type: DatasourceRow['type'], config: ServerConnectionConfig, artifact: RestoreSource, source: string, options: RestoreOptions) {
  return serverEngineFor(type).recreateDatabase?.(config, artifact, source, options) ?? Promise.resolve(null);
}

const invalid = (field: string, message: string) => new AppError('validation_error', message, [{ path: field, message }]);

/** Which databases of a whole server's backup a restore asks for, each under the name it gets on the target. */
export interface ServerRestorePlan {
  databases: { name: string; target: string }[];
  globals: boolean;
}

/**
 * Checks a restore request against a whole server's backup before anything is queued: names it does not hold,
 * databases that failed in it, a new name for several, a target that is not a server. Null for any other backup.
 */
export function planServerRestore(
  backup: BackupMetadata,
  target: DatasourceRow,
  targetConfig: ConnectionConfig,
  input: Pick<RestoreInput, 'database' | 'databases' | 'target_database' | 'globals' | 'target_path' | 'tables'>,
): ServerRestorePlan | null {
  const server = backup.server;
  if (!server) {
    if (input.database || input.databases) throw invalid(input.database ? 'database' : 'databases', 'This backup is of one database, not of a whole server');
    return null;
  }
  if (input.target_path) throw invalid('target_path', 'A server backup restores into databases, not a path');
  // Chosen tables come from one database's artifact: the others, and the server's roles, are not theirs.
  if (input.tables && input.databases) throw invalid('databases', 'Chosen tables restore from one database: name it in database');
  if (input.tables && input.globals) throw invalid('globals', "Chosen tables restore without the server's roles and grants");
  if (input.tables && !input.database) throw invalid('database', 'Chosen tables restore from one database of this backup: name it in database');
  const good = server.databases.filter((d) => d.status === 'completed').map((d) => d.name);
  const known = (name: string, field: string) => {
    const entry = server.databases.find((d) => d.name === name);
    if (!entry) throw invalid(field, `This backup has no database named ${name} (it holds ${server.databases.map((d) => d.name).join(', ')})`);
    if (entry.status !== 'completed') throw invalid(field, `${name} failed in this backup (${entry.error}): choose another backup of it`);
    return name;
  };
  let names: string[];
  if (input.database) {
    if (input.databases) throw invalid('databases', 'Give one database or several, not both');
    names = [known(input.database, 'database')];
  } else if (input.databases === 'all') names = good;
  else if (input.databases) names = [...new Set(input.databases)].map((n) => known(n, 'databases'));
  else throw invalid('databases', 'A server backup holds several databases: choose one (database), several (databases) or all');
  if (input.target_database && names.length > 1) throw invalid('target_database', 'A new name is for one database: restore several under their own names');
  const wholeServerTarget = isWholeServer(target.type, targetConfig);
  if (!wholeServerTarget && (names.length > 1 || input.globals)) {
    throw invalid(
      'target_datasource_id',
      `${target.name} is one database: restore several databases or the roles into a server datasource ("Every database on this server")`,
    );
  }
  return {
    databases: names.map((name) => ({ name, target: input.target_database ?? (wholeServerTarget ? name : (targetConfig as ServerConnectionConfig).database) })),
    globals: input.globals ?? input.databases === 'all',
  };
}

/**
 * A restore from a whole server's backup: the globals first (so owners and grants resolve), a safety backup of the
 * databases it replaces, then each database from its own verified artifact, into itself or a new one. A database
 * that fails is named; the others still restore.
 */
export function serverRestoreWork(ctx: CoreContext, runInside: RunInside, runKeys: RunKeys): Work {
  return async (row, { signal, report }) => {
    const { say, progress } = report;
    const request = metadataOf(row) as RestoreMetadata;
    const planned = request.databases ?? [];
    const done: NonNullable<RestoreMetadata['databases_restored']> = [];
    /** What a restore of chosen tables left out (a foreign key to a table not chosen), as the one-database path records it. */
    const leftOut: string[] = [];
    let safetyId: string | null = null;
    let targetName = 'the target';
    const cleanups: (() => unknown)[] = [];
    try {
      if (!row.datasource_id) throw new AppError('not_found', 'The target datasource was deleted');
      const datasource = await ctx.db.getRepository(Datasources).findOneByOrFail({ id: row.datasource_id });
      targetName = datasource.name;
      const config = datasourceConfig(ctx, datasource) as ServerConnectionConfig;
      const engine = backupEngineFor(datasource.type);
      const settings = await readSettings(ctx.db);
      const tempDir = await ctx.temp.dir(settings['system.temp_directory']);
      const fetch = (file: string, checksum: string, bytes?: number) =>
        fetchVerified(ctx, request.source_execution_id, {
          storageId: request.storage_location_id,
          tempDir,
          signal,
          say,
          progress,
          keys: runKeys.of(row.id),
          artifact: { file, checksum, bytes },
        });
      const options = {
        parallelJobs: 1,
        toolDirs: toolDirs(settings),
        tempDir,
        signal,
        log: say,
        overwrite: false,
      };

      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const backup = await locateBackup(ctx, request.source_execution_id);
      const server = backup.metadata.server;
      if (!server) throw new AppError('validation_error', 'This backup is of one database, not of a whole server');

      // Kept until the databases are in: MySQL's grants on tables are replayed after them.
      const globals = request.globals ? await fetch(server.globals.artifact, backup.metadata.checksum!) : null;
      cleanups.push(() => globals?.cleanup());
      const replayGlobals = async (phase: 'before' | 'after') => {
        if (!globals) return;
        const result = await serverEngineFor(datasource.type).restoreGlobals(
          config,
          await globals.source.file(),
          { ...options, createDatabase: false, source: {} },
          phase,
        );
        if (result.engine_output) say('info', result.engine_output);
      };
      if (globals) say('info', "Restoring the server's roles and grants first, so owners and grants resolve");
      await replayGlobals('before');

      const existing = isWholeServer(datasource.type, config)
        ? (await serverEngineFor(datasource.type).listDatabases(config, signal)).map((d) => d.name)
        : [config.database];
      const replaced = planned.filter((p) => existing.includes(p.target)).map((p) => p.target);
      if (replaced.length && request.safety_backup) {
        progress({ stage: 'safety_backup', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
        safetyId = await safetyBackup(ctx, runInside, row, backup.execution, datasource.id, signal, replaced);
        say('info', `Safety backup of ${replaced.join(', ')} completed`);
      } else if (replaced.length) {
        say('warn', `No safety backup: ${replaced.join(', ')} ${replaced.length === 1 ? 'is' : 'are'} overwritten without a copy`);
      }

      for (const { name, target } of planned) {
        signal.throwIfAborted();
        const entry = server.databases.find((d) => d.name === name)!;
        progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
        const createDatabase = !existing.includes(target);
        const what = request.tables ? `${request.tables.join(', ')} of ${name}` : name;
        say('info', `Restoring ${what} into ${createDatabase ? 'a new database ' : ''}${target}`);
        const fetched = await fetch(entry.artifact, entry.checksum!, entry.size_bytes).catch((e: unknown) => e as Error);
        if (fetched instanceof Error) {
          if (signal.aborted) throw fetched;
          done.push({ name, target, ok: false, error: fetched.message, tables: null, rows: null });
          continue;
        }
        try {
          const targetConfig = { ...config, database: target, all_databases: false };
          const restoreOptions = { ...options, createDatabase, source: entry.source };
          if (request.tables) {
            // Only the chosen tables, with what they need, into a plain new database or the existing one.
            const result = await engine.restoreTables!(targetConfig, await fetched.source.file(), request.tables, restoreOptions);
            leftOut.push(...(result.left_out ?? []));
          } else {
            const recreated = createDatabase ? await recreateAsBackedUp(datasource.type, targetConfig, fetched.source, name, restoreOptions) : null;
            await engine.restore(targetConfig, fetched.source, {
              ...restoreOptions,
              createDatabase: createDatabase && !recreated,
              keepOwners: recreated?.keepOwners,
            });
            await recreated?.finish();
          }
          const summary = await engine.summarize(targetConfig, { signal, estimate: true });
          say('info', `${target} now holds ${holdings(datasource.type, summary)}`);
          done.push({ name, target, ok: true, error: null, tables: summary.tables, rows: summary.rows });
        } catch (e) {
          if (signal.aborted) throw e;
          say('error', `${name}: ${(e as Error).message}`);
          done.push({ name, target, ok: false, error: (e as Error).message, tables: null, rows: null });
        } finally {
          await fetched.cleanup();
        }
      }

      await replayGlobals('after');
      const failed = done.filter((d) => !d.ok);
      const described = `${request.tables ? `${counted(request.tables.length, 'table')} of ${planned[0]!.name} into ` : ''}${
        planned.length === 1 ? `database ${planned[0]!.target}` : `${planned.length} databases`
      } on ${datasource.name}`;
      const metadata: RestoreMetadata = {
        ...request,
        datasource_name: datasource.name,
        datasource_type: datasource.type,
        job_name: backup.metadata.job_name ?? null,
        target: described,
        target_touched: true,
        safety_execution_id: safetyId,
        databases_restored: done,
        tables_restored: done.reduce((n, d) => n + (d.tables ?? 0), 0),
        rows_restored: done.reduce((n, d) => n + (d.rows ?? 0), 0),
        ...(request.tables ? { left_out: leftOut } : {}),
      };
      if (failed.length) {
        const message = `Not restored: ${failed.map((f) => `${f.name} (${f.error})`).join('; ')}${
          done.length > failed.length
            ? `. Restored: ${done
                .filter((d) => d.ok)
                .map((d) => d.target)
                .join(', ')}`
            : ''
        }`;
        say('error', message);
        return {
          status: 'failed',
          message,
          metadata,
          notification: restoreFailed({ datasourceId: datasource.id, executionId: row.id, target: described, message, touched: true }),
        };
      }
      return {
        status: 'completed',
        columns: { size_bytes: backup.execution.size_bytes, compressed_size_bytes: backup.execution.compressed_size_bytes },
        metadata,
        notification: restoreCompleted({
          datasourceId: datasource.id,
          datasourceName: datasource.name,
          datasourceType: datasource.type,
          target: described,
          backupTakenAt: backup.execution.created_at,
          executionId: row.id,
          sourceExecutionId: request.source_execution_id,
          summary: { tables: metadata.tables_restored ?? 0, rows: metadata.rows_restored ?? 0, estimated: true },
        }),
      };
    } catch (e) {
      const { status, message: cause, stack, engineOutput } = failureOf(e, signal);
      const touched = done.length > 0 || request.globals === true;
      const message = `${cause.replace(/\.+$/, '')}. ${touched ? `${targetName} may be partly restored` : `${targetName} was not touched`}.`;
      say(status === 'cancelled' ? 'warn' : 'error', message);
      return {
        status,
        message,
        stack,
        metadata: {
          ...request,
          target: targetName,
          target_touched: touched,
          safety_execution_id: safetyId,
          databases_restored: done,
          engine_output: engineOutput,
        },
        notification:
          status === 'cancelled' ? null : restoreFailed({ datasourceId: row.datasource_id, executionId: row.id, target: targetName, message, touched }),
      };
    } finally {
      runKeys.drop(row.id);
      for (const cleanup of cleanups) await cleanup();
    }
  };
}
