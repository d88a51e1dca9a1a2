import { readFile } from 'node:fs/promises';
import { AppError } from '../../../shared/errors.js';

/** The most a globals file may weigh: thousands of roles with their grants are far below it. */
const GLOBALS_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A globals file's statements, split where a `;` ends one outside quotes and comments. The app runs them
 * one by one through its driver, never through a client tool: a file from a shared bucket must not reach
 * psql's or mysql's own commands (`\!` runs a shell). A backslash command outside quotes is refused, except
 * the ones pg_dumpall writes around its output (`\restrict`, `\unrestrict`), which are skipped.
 */
export async function readStatements(file: string, dialect: Dialect): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  if (Buffer.byteLength(text) > GLOBALS_MAX_BYTES) throw new AppError('damaged', "The globals file is larger than any server's roles and grants could be");
  return splitStatements(text, dialect);
}

/** PostgreSQL: '' and "" quote, a backslash is itself. MySQL: '' "" `` quote, a backslash escapes inside '' and "". */
export type Dialect = 'postgres' | 'mysql';

export function splitStatements(text: string, dialect: Dialect): string[] {
  const quotes = dialect === 'mysql' ? ["'", '"', '`'] : ["'", '"'];
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const atLineStart = () => current.trim() === '' || text[i - 1] === '\n';
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new AppError('damaged', 'The globals file has a comment that never ends');
      i = end + 2;
      continue;
    }
    if (quotes.includes(ch)) {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\\' && dialect === 'mysql' && ch !== '`') j++;
        else if (text[j] === ch) {
          if (text[j + 1] === ch) j++;
          else break;
        }
      }
      if (j >= text.length) throw new AppError('damaged', 'The globals file has a quoted name or string that never ends');
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '\\') {
      const line = text.slice(i, text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i));
      if (atLineStart() && /^\\(restrict|unrestrict)(\s|$)/.test(line)) {
        i += line.length;
        continue;
      }
      throw new AppError('damaged', `The globals file holds a client command (${line.slice(0, 60)}): it was not run`);
    }
    if (ch === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}
