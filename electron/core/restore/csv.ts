import type { TableRows } from '../engines/types.js';

/**
 * A field as RFC 4180 writes it, and as PostgreSQL's own `COPY … CSV` does: quoted when it holds a comma, a quote or a
 * line break, when it is empty (so that an empty string and a NULL, written as nothing, stay apart) or `\.`.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || value === '\\.' || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** The CSV text of a table, header first, records ending in CRLF (RFC 4180), a few hundred rows per piece. */
export async function* csvOf(table: TableRows): AsyncGenerator<string> {
  const line = (fields: (string | null)[]) => `${fields.map(csvField).join(',')}\r\n`;
  let piece = line(table.columns);
  for await (const row of table.rows) {
    piece += line(row);
    if (piece.length >= 64 * 1024) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}
