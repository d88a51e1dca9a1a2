import { AppError } from '../../../../shared/errors.js';
import { findTools, foldersUnder } from '../tools.js';

const usual = () => [
  ...foldersUnder('C:\\Program Files\\MariaDB', 'bin'),
  ...foldersUnder('C:\\Program Files\\MySQL', 'bin'),
  '/opt/homebrew/bin',
  '/usr/local/mysql/bin',
];

/** mysqldump and mariadb-dump read both servers' dumps well enough for the same major line; prefer the matching brand. */
export async function mysqlTool(kind: 'dump' | 'client', preferMariadb: boolean, override?: string | null): Promise<string> {
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
    if (tool) return tool.path;
  }
  throw new AppError(
    'unsupported',
    `${names[0]} was not found: install the MariaDB or MySQL client tools (e.g. mariadb-client), or set their folder in Settings → Client tools.`,
  );
}
