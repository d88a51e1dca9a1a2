import type { TocTable } from '../../../../shared/schemas/toc.js';
import type { TocRecorder } from '../types.js';

/** The comment lines mysqldump and mariadb-dump open each section with. */
export const SECTION =
  /^-- (Table structure for table|Temporary table structure for view|Final view structure for view|Dumping routines for database|Dump completed on)\b ?`?(.*?)`?$/;
const TRIGGER = /^\/\*!50003 CREATE\*\/ .*?\/\*!50003 TRIGGER `?([^`\s]+)`?\s+(?:BEFORE|AFTER)\s+\w+\s+ON\s+`?([^`\s]+)`?/;
const ROUTINE = /^\/\*!50003 DROP (PROCEDURE|FUNCTION) IF EXISTS `(.+)` \*\/;$/;
/** A line longer than this holds data (an INSERT), never a section's opening. */
const LONGEST_MARK = 4096;

/**
 * Reads a SQL dump's sections as it streams: each table's byte range (its structure, data and triggers, from its
 * `-- Table structure for table` comment to the next section), views, routines and triggers. Only lines that start
 * with `--` or `/*!50003` are looked at, so the rows of a large dump pass with a search for a newline.
 */
export function sqlDumpIndex(): TocRecorder & { tables: TocTable[] } {
  const tables: TocTable[] = [];
  let position = 0;
  /** The start of a line cut by the end of the last chunk (when short enough to matter). */
  let carry: Buffer | null = null;
  let carryAt = 0;
  /** Whether the next byte starts a line. */
  let lineStart = true;
  let open: TocTable | null = null;

  const close = (at: number) => {
    if (open) open.range = [open.range![0], at];
    open = null;
  };

  function line(text: string, at: number) {
    const section = SECTION.exec(text);
    if (section) {
      // The section's comment starts with a bare `--` line just before it.
      const start = Math.max(0, at - 3);
      close(start);
      const [, kind, name] = section;
      if (kind === 'Table structure for table') {
        open = { schema: null, name: name!, kind: 'TABLE', rows: null, bytes: null, range: [start, start], dump_id: null };
        tables.push(open);
      } else if (kind === 'Temporary table structure for view') {
        tables.push({ schema: null, name: name!, kind: 'VIEW', rows: null, bytes: null, range: null, dump_id: null });
      }
      return;
    }
    const trigger = TRIGGER.exec(text);
    if (trigger) {
      tables.push({ schema: null, name: trigger[1]!, kind: 'TRIGGER', rows: null, bytes: null, range: null, dump_id: null });
      return;
    }
    const routine = ROUTINE.exec(text);
    if (routine) tables.push({ schema: null, name: routine[2]!, kind: routine[1]!, rows: null, bytes: null, range: null, dump_id: null });
  }

  const interesting = (buf: Buffer, from: number) => buf[from] === 0x2d || buf[from] === 0x2f;

  return {
    tables,
    observe(chunk: Buffer) {
      if (chunk.length === 0) return;
      let from = 0;
      if (!lineStart && !carry) {
        // The rest of a line begun in an earlier chunk, which did not start like a section's comment.
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) {
          position += chunk.length;
          return;
        }
        from = nl + 1;
      } else if (carry) {
        const nl = chunk.indexOf(0x0a);
        const end = nl < 0 ? chunk.length : nl;
        if (carry.length + end <= LONGEST_MARK) {
          carry = Buffer.concat([carry, chunk.subarray(0, end)]);
          if (nl >= 0) {
            line(carry.toString('utf8'), carryAt);
            carry = null;
          }
        } else carry = null;
        if (nl < 0) {
          position += chunk.length;
          return;
        }
        from = nl + 1;
      }
      while (from < chunk.length) {
        const nl = chunk.indexOf(0x0a, from);
        if (nl < 0) {
          if (interesting(chunk, from) && chunk.length - from <= LONGEST_MARK) {
            carry = Buffer.from(chunk.subarray(from));
            carryAt = position + from;
          }
          break;
        }
        if (interesting(chunk, from) && nl - from <= LONGEST_MARK) line(chunk.toString('utf8', from, nl), position + from);
        from = nl + 1;
      }
      position += chunk.length;
      lineStart = chunk[chunk.length - 1] === 0x0a;
    },
    async finish() {
      close(position);
      return { kind: 'tables' as const, tables };
    },
  };
}
