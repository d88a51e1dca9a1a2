import { readFile } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { runTool, secretFile } from '../process.js';
import { splitStatements } from '../sql-statements.js';
import { headOf } from '../source.js';
import type { RecreatedDatabase, RestoreOptions, RestoreSource } from '../types.js';
import { quoteIdent, withClient } from './client.js';
import { isTar } from './directory.js';
import { sqlOnly } from './restore.js';
import { pgTool } from './tools.js';

// The database's own entries in an archive's table of contents (pg_dump -Fc keeps them for pg_restore --create):
// `3351; 1262 16384 DATABASE - shop sales`, `… DATABASE PROPERTIES - shop sales`, `… ACL - DATABASE shop sales`,
// `… COMMENT - DATABASE shop sales`.
const DATABASE_ENTRY = /^\d+; \d+ \d+ (?:DATABASE(?: PROPERTIES)? - |(?:ACL|COMMENT) - DATABASE )/;
const TOC_ENTRY = /^\d+; \d+ \d+ /;

// A name as pg_dump writes it: quoted where it must be, bare otherwise.
const NAME = String.raw`("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)`;

/**
 * The only statements taken from the archive's database entries, each naming the database at `NAME`: an archive
 * may come from a shared bucket, so nothing else it holds is run, and none may reach another database.
 */
const DATABASE_STATEMENTS: { shape: RegExp; when: 'create' | 'after' }[] = [
  { shape: new RegExp(String.raw`^CREATE DATABASE ${NAME}(?: WITH .*)?$`, 'sd'), when: 'create' },
  { shape: new RegExp(String.raw`^ALTER DATABASE ${NAME} (?:OWNER TO|SET|RESET) .*$`, 'sd'), when: 'after' },
  { shape: new RegExp(String.raw`^ALTER ROLE (?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*) IN DATABASE ${NAME} SET .*$`, 'sd'), when: 'after' },
  { shape: new RegExp(String.raw`^COMMENT ON DATABASE ${NAME} IS .*$`, 'sd'), when: 'after' },
  { shape: new RegExp(String.raw`^(?:GRANT|REVOKE) [A-Z, ]+ ON DATABASE ${NAME} (?:TO|FROM) .*$`, 'sd'), when: 'after' },
];

// What pg_restore writes around them for its own session: not the database's, never run.
const SESSION = /^(SET |SELECT pg_catalog\.set_config\()/;

const unquote = (name: string) => (name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name);

/** The database's statements of an archive, renamed to `target`; what does not fit a known shape is named, not run. */
export function databaseStatements(sql: string, source: string, target: string): { create: string | null; after: string[]; refused: string[] } {
  const result = { create: null as string | null, after: [] as string[], refused: [] as string[] };
  const { sql: clean, dropped } = sqlOnly(sql);
  result.refused.push(...dropped.filter((l) => !/^\\(connect|encoding|(un)?restrict) /.test(l)));
  for (const statement of splitStatements(clean, 'postgres')) {
    if (SESSION.test(statement)) continue;
    const fit = DATABASE_STATEMENTS.map((s) => ({ ...s, match: s.shape.exec(statement) })).find((s) => s.match);
    const named = fit?.match?.[1];
    if (!fit || !named || unquote(named) !== source) {
      result.refused.push(statement);
      continue;
    }
    const [start, end] = fit.match!.indices![1]!;
    const renamed = `${statement.slice(0, start)}${quoteIdent(target)}${statement.slice(end)}`;
    if (fit.when === 'create') result.create = renamed;
    else result.after.push(renamed);
  }
  return result;
}

/** The last word of each entry of the table of contents: the role that owns it. */
const ownersOf = (toc: string[]) => [...new Set(toc.filter((l) => TOC_ENTRY.test(l)).map((l) => l.trim().split(' ').at(-1)!))];

/**
 * Creates a database as a pg_dump archive holds it: its encoding and locale first, then (in `finish`, once its
 * contents are in) its owner, settings, comment and grants (CONNECT, CREATE, TEMPORARY). A step the target cannot
 * take (a role it lacks) is a warning. The objects inside keep their owners when the login may become every one
 * of them (a superuser, the roles there). Null for an archive that is a folder (pg_dump -j): the restore creates it.
 */
export async function recreatePgDatabase(
  config: ServerConnectionConfig,
  artifact: RestoreSource,
  source: string,
  options: RestoreOptions,
): Promise<RecreatedDatabase | null> {
  if (isTar(await headOf(artifact, 262))) return null;
  const target = config.database;
  return withClient(config, 'postgres', options.signal, async (client) => {
    const { rows } = await client.query<{ num: string; superuser: boolean }>(
      `SELECT current_setting('server_version_num') AS num, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
    );
    const tool = await pgTool('pg_restore', Math.floor(Number(rows[0]!.num) / 10000), options.toolDirs.postgres);
    const files: { path: string; remove: () => void }[] = [];
    const tempFile = (content: string) => {
      const f = secretFile(options.tempDir, 'pg-database', content);
      files.push(f);
      return f.path;
    };
    let toc: string[];
    let statements: ReturnType<typeof databaseStatements>;
    try {
      const list = tempFile('');
      // The database's entries are in the archive's head: pg_restore reads that much of the stream.
      await runTool(tool, ['--create', '--list', `--file=${list}`], { signal: options.signal, stdin: artifact.open() });
      toc = (await readFile(list, 'utf8')).split('\n');
      const own = toc.filter((l) => DATABASE_ENTRY.test(l));
      const sql = tempFile('');
      if (own.length)
        await runTool(tool, ['--create', `--use-list=${tempFile(own.join('\n'))}`, `--file=${sql}`], { signal: options.signal, stdin: artifact.open() });
      statements = databaseStatements(await readFile(sql, 'utf8'), source, target);
    } finally {
      for (const f of files) f.remove();
    }
    if (statements.refused.length) {
      options.log(
        'warn',
        `${statements.refused.length} statement(s) of the backup's database entries were not run: ${statements.refused.join(' | ').slice(0, 300)}`,
      );
    }

    await createDatabase(client, target, statements.create, options);
    const owners = ownersOf(toc);
    const { rows: present } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [owners]);
    const keepOwners = rows[0]!.superuser === true && present[0]!.n === owners.length;
    if (!keepOwners) {
      options.log(
        'info',
        rows[0]!.superuser
          ? `The objects of ${target} belong to ${config.username}: not every owner of the backup is a role here (restore the roles first to keep them)`
          : `The objects of ${target} belong to ${config.username}: only a superuser may give them to their owners of the backup`,
      );
    }
    return {
      keepOwners,
      finish: () => applyDatabaseStatements(config, target, statements.after, options),
    };
  });
}

/** The archive's CREATE DATABASE (its encoding and locale); where the target lacks that locale, a plain one, said. */
async function createDatabase(client: import('pg').Client, target: string, create: string | null, options: RestoreOptions): Promise<void> {
  const plain = `CREATE DATABASE ${quoteIdent(target)}`;
  try {
    await client.query(create ?? plain);
  } catch (e) {
    if ((e as { code?: string }).code === '42P04')
      throw new AppError('conflict', `Database ${target} already exists: choose a new name, or restore onto the datasource itself`);
    if (!create) throw e;
    options.log('warn', `${target} was created with this server's defaults: the backup's encoding or locale is not available here (${(e as Error).message})`);
    await client.query(plain);
  }
  options.log('info', `Created database ${target}`);
}

/** The owner, settings, comment and grants of the database, one by one: one that fails (a role the server lacks) is a warning. */
async function applyDatabaseStatements(config: ServerConnectionConfig, target: string, statements: string[], options: RestoreOptions): Promise<void> {
  if (!statements.length) return;
  const failed = await withClient(config, 'postgres', options.signal, async (client) => {
    const errors: string[] = [];
    for (const sql of statements) await client.query(sql).catch((e: unknown) => errors.push((e as Error).message));
    return errors;
  });
  if (failed.length) options.log('warn', `${failed.length} of the owner, settings and grants of ${target} were not restored: ${failed.slice(0, 5).join('; ')}`);
  else options.log('info', `${target} has its owner, settings and grants of the backup`);
}
