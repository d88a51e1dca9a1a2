import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AppError } from '../../../../shared/errors.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { runTool, secretFile } from '../process.js';
import type { RestoreOptions } from '../types.js';
import { pgEnv, quoteIdent, withClient } from './client.js';
import { pgTool } from './tools.js';

/**
 * Reads the server's major version, then creates the target database when asked (an existing one is refused)
 * while `meanwhile(major)` runs beside it: the archive's table of contents is read as the server creates the database.
 */
export async function prepareTarget<T>(
  c: ServerConnectionConfig,
  o: RestoreOptions,
  meanwhile: (major: number) => Promise<T>,
): Promise<{ major: number; ready: T }> {
  return withClient(c, o.createDatabase ? 'postgres' : c.database, o.signal, async (client) => {
    const { rows } = await client.query<{ num: string }>("SELECT current_setting('server_version_num') AS num");
    const major = Math.floor(Number(rows[0]!.num) / 10000);
    const ready = meanwhile(major);
    // Awaited below, or settled before a failure of CREATE DATABASE is reported.
    ready.catch(() => undefined);
    if (o.createDatabase) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(c.database)}`);
      } catch (e) {
        await ready.catch(() => undefined);
        // A "new" database that exists holds someone's data, and no safety backup was taken of it.
        if ((e as { code?: string }).code === '42P04')
          throw new AppError('conflict', `Database ${c.database} already exists: choose a new name, or restore onto the datasource itself`);
        throw e;
      }
      o.log('info', `Created database ${c.database}`);
    }
    return { major, ready: await ready };
  });
}

// An archive's table of contents line, e.g. `3351; 0 0 ACL public TABLE orders dg`.
const ACL_ENTRY = /^\d+; \d+ \d+ (?:DEFAULT )?ACL /;

/**
 * Where pg_restore reads the archive: a file (a folder of a -j backup, or a staging file: any number of
 * jobs), or a stream opened anew for each pass (one job: pg_restore reads an archive that pg_dump wrote
 * to a pipe in order, and the list and the grants need only its head).
 */
export type Archive = string | (() => Readable);

/** pg_restore's arguments and input for reading `archive`. */
function reading(archive: Archive): { args: string[]; stdin?: Readable } {
  return typeof archive === 'string' ? { args: ['--', archive] } : { args: [], stdin: archive() };
}

/** What pg_restore is to run: the tool fit for the server, the archive's entries without the grants, and the grants. */
export interface RestorePlan {
  tool: string;
  data: string[];
  grants: string[];
}

/** Reads the archive's table of contents (pg_restore --list), which touches nothing on the server. */
export async function planRestore(major: number, archive: Archive, o: RestoreOptions): Promise<RestorePlan> {
  const tool = await pgTool('pg_restore', major, o.toolDirs.postgres);
  const toc = secretFile(o.tempDir, 'pg-restore', '');
  try {
    const input = reading(archive);
    await runTool(tool, ['--list', `--file=${toc.path}`, ...input.args], { signal: o.signal, stdin: input.stdin });
    const lines = (await readFile(toc.path, 'utf8')).split('\n');
    return { tool, grants: lines.filter((l) => ACL_ENTRY.test(l)), data: lines.map((l) => (ACL_ENTRY.test(l) ? `;${l}` : l)) };
  } finally {
    toc.remove();
  }
}

/**
 * pg_restore in two passes: everything but the grants, then the grants. Owners are dropped
 * (--no-owner) unless `keepOwners`: the restoring login may not be allowed to become them. Grants are kept, because a
 * restore that silently loses "reporting may read orders" breaks an application later; but a grant to
 * a role this server lacks (a restore onto another server, a restore test) must not fail the data, so
 * grants run apart, through psql, one statement at a time, and their failures are warnings.
 */
export async function pgRestore(c: ServerConnectionConfig, major: number, plan: RestorePlan, archive: Archive, o: RestoreOptions): Promise<string> {
  const { tool, data, grants } = plan;
  const { env, dbname, remove } = pgEnv(c, o);
  const files: { remove: () => void }[] = [];
  const tempFile = (content: string) => {
    const f = secretFile(o.tempDir, 'pg-restore', content);
    files.push(f);
    return f.path;
  };
  const connect = [dbname(), '--no-password'];
  try {
    const owners = o.keepOwners ? [] : ['--no-owner'];
    const args = [...connect, ...owners, '--clean', '--if-exists', '--exit-on-error', `--use-list=${tempFile(data.join('\n'))}`];
    // One job restores in a single transaction: a failure leaves the database as it was. Parallel jobs
    // are faster but cannot share a transaction.
    if (o.parallelJobs > 1) args.push(`--jobs=${o.parallelJobs}`);
    else args.push('--single-transaction');
    o.log('info', `Running ${tool} ${o.parallelJobs > 1 ? `with ${o.parallelJobs} jobs` : 'in one transaction'}`);
    // The grants as SQL, written while the data restores (it touches nothing on the server). pg_restore sends an
    // object's grants together, so one missing role would cost the others too: psql runs them one by one below.
    const grantsSql = grants.length ? grantsAsSql(tool, grants, archive, tempFile, o) : null;
    grantsSql?.catch(() => undefined);
    const input = reading(archive);
    let output = await runTool(tool, [...args, ...input.args], { env, signal: o.signal, stdin: input.stdin }).catch(async (e: unknown) => {
      // Its temp files are removed below only once it is done with them.
      await grantsSql?.catch(() => undefined);
      throw e;
    });

    if (grantsSql) {
      try {
        output += await restoreGrants(c, major, await grantsSql, o);
      } catch (e) {
        // The data is in; grants are restored where they can be, and a missing psql does not undo that.
        o.signal.throwIfAborted();
        o.log('warn', `The backup's grants were not restored (the data was): ${(e as Error).message}`);
      }
    }
    return output;
  } finally {
    remove();
    for (const f of files) f.remove();
  }
}

/** The archive's grants as SQL (pg_restore --file): they have no data, so from a stream pg_restore reads its head only. */
async function grantsAsSql(tool: string, grants: string[], archive: Archive, tempFile: (content: string) => string, o: RestoreOptions): Promise<string> {
  const sql = tempFile('');
  const input = reading(archive);
  await runTool(tool, [`--use-list=${tempFile(grants.join('\n'))}`, `--file=${sql}`, ...input.args], { signal: o.signal, stdin: input.stdin });
  return readFile(sql, 'utf8');
}

/**
 * Runs the backup's grants (SQL that pg_restore wrote from the archive) through psql, one statement at
 * a time, a failure being a warning. The archive may come from a shared bucket: psql reads no psqlrc
 * (-X) and is handed no meta-command (`\\! …` runs a shell), see sqlOnly.
 */
export async function restoreGrants(c: ServerConnectionConfig, major: number, sql: string, o: RestoreOptions): Promise<string> {
  const { sql: clean, dropped } = sqlOnly(sql);
  if (dropped.length) {
    o.log(
      'warn',
      `${dropped.length} line(s) of the backup's grants were psql commands, not SQL, and were not run: ${dropped.slice(0, 3).join(' | ').slice(0, 300)}`,
    );
  }
  const psql = await pgTool('psql', major, o.toolDirs.postgres);
  const { env, dbname, remove } = pgEnv(c, o);
  const file = secretFile(o.tempDir, 'grants', clean);
  try {
    const said = await runTool(psql, ['-X', dbname(), '--no-password', '--quiet', '--set=ON_ERROR_STOP=0', `--file=${file.path}`], {
      env,
      signal: o.signal,
    });
    const errors = said
      .split('\n')
      .filter((l) => l.includes('ERROR:'))
      .map((l) => l.replace(/^.*ERROR:\s*/, ''));
    if (errors.length) o.log('warn', `${errors.length} grant(s) of the backup were not restored (the data was): ${errors.slice(0, 5).join('; ')}`);
    return said;
  } finally {
    file.remove();
    remove();
  }
}

// pg_restore's own guard lines around a script (PostgreSQL 17.6/16.10/15.14 and later): not SQL, and
// not worth a warning.
const RESTRICT = /^\\(un)?restrict [A-Za-z0-9]+\s*$/;

/**
 * `sql` without the lines that hold a psql meta-command: a backslash outside a string, an identifier or
 * a comment, wherever it stands on the line (psql runs `GRANT …; \\! cmd` as a grant and a shell).
 */
export function sqlOnly(sql: string): { sql: string; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  // What the scanner is inside when a line starts: plain SQL, a '…' or E'…' string, a "…" identifier, a /* */ comment, a $tag$ body.
  let inside: { kind: 'sql' } | { kind: 'quote'; close: "'" | '"'; backslash: boolean } | { kind: 'comment'; depth: number } | { kind: 'dollar'; tag: string } =
    {
      kind: 'sql',
    };
  for (const line of sql.split('\n')) {
    let meta = false;
    for (let i = 0; i < line.length && !meta; i++) {
      const ch = line[i]!;
      const next = line[i + 1];
      if (inside.kind === 'quote') {
        if (inside.backslash && ch === '\\') i++;
        else if (ch === inside.close) inside = { kind: 'sql' };
      } else if (inside.kind === 'comment') {
        if (ch === '*' && next === '/') {
          inside = inside.depth > 1 ? { kind: 'comment', depth: inside.depth - 1 } : { kind: 'sql' };
          i++;
        } else if (ch === '/' && next === '*') {
          inside = { kind: 'comment', depth: inside.depth + 1 };
          i++;
        }
      } else if (inside.kind === 'dollar') {
        if (line.startsWith(inside.tag, i)) {
          i += inside.tag.length - 1;
          inside = { kind: 'sql' };
        }
      } else if (ch === '\\') meta = true;
      else if (ch === '-' && next === '-') break;
      else if (ch === '/' && next === '*') {
        inside = { kind: 'comment', depth: 1 };
        i++;
      } else if (ch === "'" || ch === '"') {
        const escaped = ch === "'" && /[eE]/.test(line[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(line[i - 2] ?? '');
        inside = { kind: 'quote', close: ch, backslash: escaped };
      } else if (ch === '$') {
        const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(line.slice(i))?.[0];
        if (tag && !/[A-Za-z0-9_]/.test(line[i - 1] ?? '')) {
          inside = { kind: 'dollar', tag };
          i += tag.length - 1;
        }
      }
    }
    if (!meta) kept.push(line);
    else if (!RESTRICT.test(line)) dropped.push(line);
  }
  return { sql: kept.join('\n'), dropped };
}
