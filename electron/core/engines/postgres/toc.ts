import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { TocTable } from '../../../../shared/schemas/toc.js';
import { runTool } from '../process.js';
import type { EngineOptions, TocRecorder } from '../types.js';
import { withClient } from './client.js';
import { pgTool } from './tools.js';

/**
 * A custom-format archive written to a pipe holds its whole table of contents before the first row: its head is kept
 * (up to this much) and read by `pg_restore --list` once the dump has ended. A schema whose list is larger is noted.
 */
const HEAD_BYTES = 16 * 1024 * 1024;

/** The kinds `pg_restore --list` prints, longest first: a name may hold spaces, a kind is matched whole. */
const KINDS = [
  'MATERIALIZED VIEW DATA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'SEQUENCE OWNED BY',
  'MATERIALIZED VIEW',
  'CHECK CONSTRAINT',
  'FOREIGN TABLE',
  'EVENT TRIGGER',
  'FK CONSTRAINT',
  'INDEX ATTACH',
  'LARGE OBJECT',
  'SEQUENCE SET',
  'ROW SECURITY',
  'DEFAULT ACL',
  'TABLE DATA',
  'BLOB METADATA',
  'BLOBS',
  'BLOB',
  'AGGREGATE',
  'COLLATION',
  'COMMENT',
  'CONSTRAINT',
  'DEFAULT',
  'DOMAIN',
  'EXTENSION',
  'FUNCTION',
  'INDEX',
  'POLICY',
  'PROCEDURE',
  'PUBLICATION',
  'RULE',
  'SCHEMA',
  'SEQUENCE',
  'STATISTICS',
  'TABLE',
  'TRIGGER',
  'TYPE',
  'VIEW',
  'ACL',
];

/** One line of `pg_restore --list`: `<dump id>; <table oid> <oid> <KIND> <schema> <name> <owner>`. */
export function parseListLine(line: string): TocTable | null {
  const m = /^(\d+); \d+ \d+ (.*)$/.exec(line);
  if (!m) return null;
  const rest = m[2]!;
  const kind = KINDS.find((k) => rest.startsWith(`${k} `));
  if (!kind) return null;
  const words = rest.slice(kind.length + 1).split(' ');
  // The owner is last; some entries (a schema's comment) have none, and then the name is all that is left.
  const schema = words.length > 2 ? words[0]! : null;
  const name = words.length > 2 ? words.slice(1, -1).join(' ') : words[0]!;
  return { schema: schema === '-' ? null : schema, name, kind, rows: null, bytes: null, range: null, dump_id: Number(m[1]) };
}

/** The archive's entries (`pg_restore --list`), with each table's row estimate and size from the server. */
export function pgArchiveIndex(c: ServerConnectionConfig, options: EngineOptions, major: () => Promise<number>): TocRecorder {
  const head: Buffer[] = [];
  let kept = 0;
  return {
    observe(chunk) {
      if (kept >= HEAD_BYTES) return;
      const piece = chunk.subarray(0, HEAD_BYTES - kept);
      head.push(Buffer.from(piece));
      kept += piece.length;
    },
    async finish() {
      // mkdtemp: a private folder (0700); the schema's names are nobody else's business.
      const dir = await mkdtemp(path.join(options.tempDir, 'toc-'));
      try {
        const archive = path.join(dir, 'head.dump');
        const list = path.join(dir, 'list.txt');
        await writeFile(archive, Buffer.concat(head), { mode: 0o600 });
        head.length = 0;
        // The server's version picks the tool; a server out of reach leaves any pg_restore here (the list reads the same).
        const tool = await pgTool('pg_restore', await major().catch(() => 0), options.toolDirs.postgres);
        await runTool(tool, ['--list', `--file=${list}`, archive], { signal: options.signal });
        const entries = (await readFile(list, 'utf8'))
          .split('\n')
          .map(parseListLine)
          .filter((e): e is TocTable => e !== null);
        const sizes = await withClient(c, c.database, options.signal, async (client) => {
          const { rows } = await client.query<{ schema: string; name: string; rows: string; bytes: string }>(
            `SELECT n.nspname AS schema, c.relname AS name, c.reltuples::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm')`,
          );
          return new Map(rows.map((r) => [`${r.schema}.${r.name}`, r]));
        }).catch(() => new Map<string, { rows: string; bytes: string }>());
        return {
          kind: 'tables' as const,
          tables: entries.map((e) => {
            const s = e.kind === 'TABLE' || e.kind === 'MATERIALIZED VIEW' ? sizes.get(`${e.schema}.${e.name}`) : undefined;
            return s ? { ...e, rows: Math.max(-1, Number(s.rows)), bytes: Number(s.bytes) } : e;
          }),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
