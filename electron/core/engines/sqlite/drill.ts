import Database from 'better-sqlite3';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Each table's row count in an open database. */
export function countRows(db: Database.Database): [string, number][] {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return tables.map((t) => [t.name, (db.prepare(`SELECT count(*) AS n FROM ${quote(t.name)}`).get() as { n: number }).n]);
}
