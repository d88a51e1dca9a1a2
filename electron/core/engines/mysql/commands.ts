import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

// Client commands that reach outside the server: a shell (\! system), another file (\. source),
// a file written (\T tee), a program (\P pager, \e edit), another server with our login (\r connect).
const SHORT = new Set(['!', '.', 'T', 'P', 'e', 'r']);
const LONG = /^\s*(system|source|tee|pager|edit|connect)(\s|;|$)/i;

type Inside = { kind: 'sql' } | { kind: 'quote'; close: string } | { kind: 'comment' };

/**
 * The first line of a SQL file the mysql client would run as one of its own commands, or null. For
 * clients without `--sandbox`: a dump from a shared bucket must not run a shell on this machine. The
 * file is read as a stream (a dump may be tens of GB), tracking strings and comments as the client does.
 */
export async function findClientCommand(file: string): Promise<{ line: number; text: string } | null> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let inside: Inside = { kind: 'sql' };
  // Long command names count only where a statement starts, as the client reads them.
  let statementStarted = false;
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (inside.kind === 'sql' && !statementStarted && LONG.test(line)) return { line: n, text: line.slice(0, 200) };
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        const next = line[i + 1];
        if (inside.kind === 'quote') {
          if (ch === '\\') i++;
          else if (ch === inside.close) inside = { kind: 'sql' };
        } else if (inside.kind === 'comment') {
          if (ch === '*' && next === '/') {
            inside = { kind: 'sql' };
            i++;
          }
        } else if (ch === '\\' && next !== undefined && SHORT.has(next)) return { line: n, text: line.slice(0, 200) };
        else if ((ch === '-' && next === '-' && /\s|^$/.test(line[i + 2] ?? '')) || ch === '#') break;
        // `/*!40101 … */` and `/*M!… */` are run by the server, and the client reads commands inside them.
        else if (ch === '/' && next === '*' && line[i + 2] !== '!' && !(line[i + 2] === 'M' && line[i + 3] === '!')) {
          inside = { kind: 'comment' };
          i++;
        } else if (ch === "'" || ch === '"' || ch === '`') {
          inside = { kind: 'quote', close: ch };
          statementStarted = true;
        } else if (ch === ';') statementStarted = false;
        else if (!/\s/.test(ch)) statementStarted = true;
      }
    }
    return null;
  } finally {
    lines.close();
  }
}
