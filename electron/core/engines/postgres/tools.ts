import { AppError } from '../../../../shared/errors.js';
import { findTools, foldersUnder } from '../tools.js';

/** Debian/Ubuntu, RHEL, Homebrew and the Windows installer's folders. */
const usual = () => [
  ...foldersUnder('/usr/lib/postgresql', 'bin'),
  ...foldersUnder('/usr/pgsql', 'bin'),
  ...foldersUnder('/opt/homebrew/opt', 'bin').filter((d) => d.includes('postgresql')),
  ...foldersUnder('/usr/local/opt', 'bin').filter((d) => d.includes('postgresql')),
  ...foldersUnder('C:\\Program Files\\PostgreSQL', 'bin'),
];

/**
 * pg_dump can dump servers of its own major version and older, never newer: pick the newest that
 * fits, or say exactly which version to install.
 */
export async function pgTool(name: 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql', serverMajor: number, override?: string | null): Promise<string> {
  const tools = await findTools([name], usual, override);
  const fit = tools.find((t) => t.version[0] >= serverMajor);
  if (fit) return fit.path;
  const have = tools.length
    ? `${name} ${tools[0]!.version[0]} cannot ${name === 'pg_restore' ? 'restore into' : 'dump'} a PostgreSQL ${serverMajor} server`
    : `${name} was not found`;
  throw new AppError('unsupported', `${have}: install postgresql-client-${serverMajor} (or newer), or set the folder of its tools in Settings → Client tools.`);
}
