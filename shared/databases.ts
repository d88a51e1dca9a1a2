// "Every database on this server": which databases a server datasource's patterns pick, and the file
// name each one's backup gets. Pure, so the form shows exactly what a run will back up.
/** The server families that back up whole servers. */
export type ServerFamily = 'postgres' | 'mysql';

/**
 * The server's own databases, left out unless a pattern names one exactly: PostgreSQL's templates and
 * MySQL's catalogs are not user data (`postgres` is, and is included unless excluded).
 */
export const SYSTEM_DATABASES: Record<ServerFamily, readonly string[]> = {
  postgres: ['template0', 'template1'],
  mysql: ['information_schema', 'performance_schema', 'sys', 'mysql'],
};

export const familyOf = (type: string): ServerFamily | null => (type === 'postgres' ? 'postgres' : type === 'mysql' || type === 'mariadb' ? 'mysql' : null);

export interface DatabasePatterns {
  /** Globs (`*`, `?`); empty: every database. */
  include: readonly string[];
  exclude: readonly string[];
}

/**
 * A glob as a user reads it: `*` any run of characters, `?` one, everything else itself (a database
 * name may hold `/`, `.`, spaces or quotes, and no character of it is special).
 */
export function globMatches(pattern: string, name: string): boolean {
  const source = [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'su').test(name);
}

export type PickReason = 'picked' | 'excluded' | 'not_included' | 'system';

/** Why a database is or is not backed up: a system database only when an include names it exactly. */
export function pickReason(name: string, patterns: DatabasePatterns, family: ServerFamily): PickReason {
  if (patterns.exclude.some((p) => globMatches(p, name))) return 'excluded';
  if (SYSTEM_DATABASES[family].includes(name)) return patterns.include.includes(name) ? 'picked' : 'system';
  if (patterns.include.length > 0 && !patterns.include.some((p) => globMatches(p, name))) return 'not_included';
  return 'picked';
}

/** The databases a run backs up, in a stable order. */
export function pickDatabases(names: readonly string[], patterns: DatabasePatterns, family: ServerFamily): string[] {
  return names.filter((n) => pickReason(n, patterns, family) === 'picked').sort((a, b) => a.localeCompare(b));
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/**
 * A database's name as a file name any storage keeps (S3 keys, SFTP, Windows shares): letters, digits,
 * `_` and `-`, never first (a name like `-rf` must not read as an option in a restore by hand). A name that needs changing gets a short hash of the real one, so two names that differ
 * only in what was replaced (`a b`, `a_b`) never share a file. The manifest maps it back.
 */
export function databaseFileStem(name: string): string {
  if (SAFE.test(name) && !/^(globals|manifest)$/i.test(name)) return name;
  const readable = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[_-]+|_+$/g, '')
    .slice(0, 60);
  return `${readable || 'db'}-${fnv1a(name)}`;
}

/** FNV-1a over the name's UTF-16 units, 8 hex digits: stable across machines, and shared/ has no node:crypto. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
