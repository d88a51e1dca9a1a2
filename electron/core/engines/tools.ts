import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../../../shared/errors.js';

const run = promisify(execFile);

/** The folders where client tools usually live, besides PATH. */
function candidateDirs(family: 'postgres' | 'mysql', override?: string | null): string[] {
  const dirs: string[] = [];
  if (override) dirs.push(override);
  const globbed = (root: string, sub: string) =>
    existsSync(root)
      ? readdirSync(root)
          .map((v) => path.join(root, v, sub))
          .filter((d) => existsSync(d))
      : [];
  if (family === 'postgres') {
    dirs.push(...globbed('/usr/lib/postgresql', 'bin'), ...globbed('/usr/pgsql', 'bin'));
    dirs.push(...globbed('/opt/homebrew/opt', 'bin').filter((d) => d.includes('postgresql')), ...globbed('/usr/local/opt', 'bin').filter((d) => d.includes('postgresql')));
    dirs.push(...globbed('C:\\Program Files\\PostgreSQL', 'bin'));
  } else {
    dirs.push(...globbed('C:\\Program Files\\MariaDB', 'bin'), ...globbed('C:\\Program Files\\MySQL', 'bin'));
    dirs.push('/opt/homebrew/bin', '/usr/local/mysql/bin');
  }
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  return [...new Set(dirs)];
}

export interface Tool {
  path: string;
  /** [major, minor] as the tool reports it. */
  version: [number, number];
}

async function versionOf(binary: string): Promise<[number, number] | null> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 10_000 });
    const m = /(\d+)\.(\d+)/.exec(stdout);
    return m ? [Number(m[1]), Number(m[2])] : null;
  } catch {
    return null;
  }
}

// Installed tools rarely change while the app runs; asking each one its version costs a process start
// (Debian's /usr/bin/pg_dump is a Perl wrapper), so answers are kept for a minute.
const cache = new Map<string, { at: number; tools: Promise<Tool[]> }>();
const CACHE_MS = 60_000;

/** Every copy of a tool this machine has, newest first. */
export function findTools(names: string[], family: 'postgres' | 'mysql', override?: string | null): Promise<Tool[]> {
  const key = `${family}|${override ?? ''}|${names.join(',')}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.tools;
  const tools = discover(names, family, override);
  cache.set(key, { at: Date.now(), tools });
  tools.catch(() => cache.delete(key));
  return tools;
}

async function discover(names: string[], family: 'postgres' | 'mysql', override?: string | null): Promise<Tool[]> {
  const found: Tool[] = [];
  const seen = new Set<string>();
  for (const dir of candidateDirs(family, override)) {
    for (const name of names) {
      const candidate = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
      if (!existsSync(candidate) || seen.has(candidate)) continue;
      seen.add(candidate);
      const version = await versionOf(candidate);
      if (version) found.push({ path: candidate, version });
    }
  }
  return found.sort((a, b) => b.version[0] - a.version[0] || b.version[1] - a.version[1]);
}

/**
 * pg_dump can dump servers of its own major version and older, never newer: pick the newest that
 * fits, or say exactly which version to install.
 */
export async function pgTool(name: 'pg_dump' | 'pg_restore' | 'psql', serverMajor: number, override?: string | null): Promise<string> {
  const tools = await findTools([name], 'postgres', override);
  const fit = tools.find((t) => t.version[0] >= serverMajor);
  if (fit) return fit.path;
  const have = tools.length ? `${name} ${tools[0]!.version[0]} cannot ${name === 'pg_restore' ? 'restore into' : 'dump'} a PostgreSQL ${serverMajor} server` : `${name} was not found`;
  throw new AppError(
    'unsupported',
    `${have}: install postgresql-client-${serverMajor} (or newer), or set the folder of its tools in Settings → Client tools.`,
  );
}

/** mysqldump and mariadb-dump read both servers' dumps well enough for the same major line; prefer the matching brand. */
export async function mysqlTool(kind: 'dump' | 'client', preferMariadb: boolean, override?: string | null): Promise<string> {
  const names = kind === 'dump' ? (preferMariadb ? ['mariadb-dump', 'mysqldump'] : ['mysqldump', 'mariadb-dump']) : preferMariadb ? ['mariadb', 'mysql'] : ['mysql', 'mariadb'];
  for (const name of names) {
    const [tool] = await findTools([name], 'mysql', override);
    if (tool) return tool.path;
  }
  throw new AppError(
    'unsupported',
    `${names[0]} was not found: install the MariaDB or MySQL client tools (e.g. mariadb-client), or set their folder in Settings → Client tools.`,
  );
}
