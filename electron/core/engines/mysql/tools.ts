import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AppError } from '../../../../shared/errors.js';
import { toolEnv } from '../process.js';
import { findTools, foldersUnder, type Tool } from '../tools.js';

const run = promisify(execFile);

const usual = () => [
  ...foldersUnder('C:\\Program Files\\MariaDB', 'bin'),
  ...foldersUnder('C:\\Program Files\\MySQL', 'bin'),
  '/opt/homebrew/bin',
  '/usr/local/mysql/bin',
];

/** A MySQL or MariaDB client tool; `mariadb` says which options it reads (Debian's mysqldump is MariaDB's). */
export interface MysqlTool extends Tool {
  mariadb: boolean;
}

/** mysqldump and mariadb-dump read both servers' dumps well enough for the same major line; prefer the matching brand. */
export async function mysqlTool(kind: 'dump' | 'client', preferMariadb: boolean, override?: string | null): Promise<MysqlTool> {
  const names =
    kind === 'dump'
      ? preferMariadb
        ? ['mariadb-dump', 'mysqldump']
        : ['mysqldump', 'mariadb-dump']
      : preferMariadb
        ? ['mariadb', 'mysql']
        : ['mysql', 'mariadb'];
  for (const name of names) {
    const [tool] = await findTools([name], usual, override);
    if (tool) return { ...tool, mariadb: /mariadb/i.test(tool.banner) };
  }
  throw new AppError(
    'unsupported',
    `${names[0]} was not found: install the MariaDB or MySQL client tools (e.g. mariadb-client), or set their folder in Settings → Client tools.`,
  );
}

const sandboxes = new Map<string, Promise<boolean>>();

/**
 * Whether the client has `--sandbox` (MariaDB 10.5.25, 10.6.18, 10.11.8, 11.x and later, MySQL 8.0.37+):
 * its own help says so, whatever the version numbering of the build.
 */
export function hasSandbox(client: string): Promise<boolean> {
  let known = sandboxes.get(client);
  if (!known) {
    known = run(client, ['--no-defaults', '--help'], { timeout: 10_000, env: toolEnv(), maxBuffer: 4 * 1024 * 1024 }).then(
      ({ stdout }) => /^\s*--sandbox\b/m.test(stdout),
      () => false,
    );
    sandboxes.set(client, known);
  }
  return known;
}
