// The table of contents is read from a dump's raw bytes as they stream past: every entry of a folder's tar at the offset
// GNU tar finds it (pax names, symlinks, empty folders, cut anywhere by the stream), each table's section of a SQL dump,
// and each line of pg_restore --list.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { pack } from '../../electron/core/engines/files/pack.js';
import { tarIndex } from '../../electron/core/engines/files/toc.js';
import { sqlDumpIndex } from '../../electron/core/engines/mysql/toc.js';
import { parseListLine } from '../../electron/core/engines/postgres/toc.js';
import type { EngineOptions } from '../../electron/core/engines/types.js';
import { checkToc, TocUnusable } from '../../electron/core/restore/contents.js';
import { tocSchema } from '../../shared/schemas/toc.js';

const dir = mkdtempSync('/tmp/dg-toc-');
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (): EngineOptions => ({
  includeTables: [],
  excludeTables: [],
  parallelJobs: 1,
  compressedByPipeline: false,
  toolDirs: {},
  tempDir: dir,
  signal: new AbortController().signal,
  log: () => undefined,
});

async function tarOf(src: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const { stream } = pack({ source_path: src, include_patterns: [], exclude_patterns: [] }, options());
  await pipeline(stream, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(Buffer.from(c)), cb()) }));
  return Buffer.concat(parts);
}

describe('the table of contents of a folder backup', () => {
  it('finds every entry, with the offset of its bytes, however the stream is cut', async () => {
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'deep', 'er'), { recursive: true });
    mkdirSync(path.join(src, 'empty'));
    writeFileSync(path.join(src, 'deep', 'er', 'a.txt'), 'alpha\n'.repeat(300));
    const long = `${'ü'.repeat(80)}-name with\nnewline.txt`;
    writeFileSync(path.join(src, 'deep', long), 'long name');
    writeFileSync(path.join(src, 'zero'), '');
    symlinkSync('deep/er/a.txt', path.join(src, 'link'));
    const tar = await tarOf(src);
    for (const cut of [1, 7, 511, 513, 4096, tar.length]) {
      const index = tarIndex();
      for (let at = 0; at < tar.length; at += cut) index.observe(tar.subarray(at, at + cut));
      const { files } = await index.finish();
      const byPath = new Map(files!.map((f) => [f.path, f]));
      assert.deepEqual([...byPath.keys()].sort(), ['deep', 'deep/er', 'deep/er/a.txt', `deep/${long}`, 'empty', 'link', 'zero'].sort(), `cut ${cut}`);
      const a = byPath.get('deep/er/a.txt')!;
      assert.equal(tar.subarray(a.data, a.data + a.size).toString(), 'alpha\n'.repeat(300));
      const l = byPath.get(`deep/${long}`)!;
      assert.equal(tar.subarray(l.data, l.data + l.size).toString(), 'long name');
      assert.ok(l.offset < l.data - 512, 'a pax header comes first, and the entry starts there');
      assert.equal(byPath.get('link')!.link, 'deep/er/a.txt');
      assert.equal(byPath.get('empty')!.type, 'directory');
      assert.equal(byPath.get('zero')!.size, 0);
      // What GNU tar lists is what the index holds.
      const listed = execFileSync('tar', ['-tf', '-'], { input: tar }).toString().split('\n').filter(Boolean);
      assert.equal(listed.length, files!.length);
    }
  });
});

describe('the table of contents of a SQL dump', () => {
  it("finds each table's section, views, triggers and routines, even when a row holds a section's comment", async () => {
    const dump = [
      '-- MariaDB dump 10.19',
      '/*!40101 SET NAMES utf8mb4 */;',
      '',
      '--',
      '-- Table structure for table `customers`',
      '--',
      '',
      'CREATE TABLE `customers` (id int);',
      "INSERT INTO `customers` VALUES (1,'\\n-- Table structure for table `x`');",
      '--',
      '-- Table structure for table `orders`',
      '--',
      'CREATE TABLE `orders` (id int);',
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50017 DEFINER=`dg`@`127.0.0.1`*/ /*!50003 TRIGGER trg BEFORE INSERT ON orders FOR EACH ROW SET NEW.id = NEW.id',
      '*/;;',
      'DELIMITER ;',
      '',
      '--',
      '-- Temporary table structure for view `v`',
      '--',
      '--',
      "-- Dumping routines for database 'shop'",
      '--',
      '/*!50003 DROP FUNCTION IF EXISTS `f` */;',
      '/*!50003 DROP PROCEDURE IF EXISTS `p` */;',
      '--',
      '-- Dump completed on 2026-12-07 19:49:47',
      '',
    ].join('\n');
    const bytes = Buffer.from(dump);
    for (const cut of [1, 5, 64, bytes.length]) {
      const index = sqlDumpIndex();
      for (let at = 0; at < bytes.length; at += cut) index.observe(bytes.subarray(at, at + cut));
      const { tables } = await index.finish();
      assert.deepEqual(
        tables!.map((t) => `${t.kind} ${t.name}`),
        ['TABLE customers', 'TABLE orders', 'TRIGGER trg', 'VIEW v', 'FUNCTION f', 'PROCEDURE p'],
        `cut ${cut}`,
      );
      const orders = tables!.find((t) => t.name === 'orders')!;
      const section = bytes.subarray(orders.range![0], orders.range![1]).toString();
      assert.ok(section.startsWith('--\n-- Table structure for table `orders`'), section.slice(0, 60));
      assert.ok(section.includes('TRIGGER trg') && !section.includes('view `v`'));
      const customers = tables!.find((t) => t.name === 'customers')!;
      assert.equal(customers.range![1], orders.range![0]);
    }
  });

  it('reads pg_restore --list lines, names with spaces and unicode included', () => {
    assert.deepEqual(parseListLine('218; 1259 16407 TABLE public café dg'), {
      schema: 'public',
      name: 'café',
      kind: 'TABLE',
      rows: null,
      bytes: null,
      range: null,
      dump_id: 218,
    });
    assert.equal(parseListLine('3213; 2606 16401 FK CONSTRAINT public orders orders_customer_id_fkey dg')!.kind, 'FK CONSTRAINT');
    assert.equal(parseListLine('3359; 0 16395 TABLE DATA public my table dg')!.name, 'my table');
    assert.equal(parseListLine(';     dbname: shop'), null);
  });
});

describe('a table of contents that cannot be trusted', () => {
  const base = { version: 1 as const, kind: 'files' as const, raw_bytes: 10_240 };
  const entry = { path: 'a', type: 'file' as const, size: 100, mode: 0o644, mtime: new Date(0).toISOString(), link: null, offset: 0, data: 512 };
  it('is refused when an entry points outside the archive, or its frames are out of order', () => {
    assert.throws(() => checkToc(tocSchema.parse({ ...base, files: [{ ...entry, data: 10_200 }] }), null), TocUnusable);
    assert.throws(() => checkToc(tocSchema.parse({ ...base, files: [{ ...entry, data: 100, offset: 200 }] }), null), TocUnusable);
    assert.throws(
      () =>
        checkToc(
          tocSchema.parse({
            ...base,
            files: [entry],
            frames: [
              [0, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
              [4096, 100, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
              [2048, 200, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
            ],
          }),
          null,
        ),
      TocUnusable,
    );
    assert.throws(
      () =>
        checkToc(
          tocSchema.parse({
            ...base,
            files: [entry],
            frames: [
              [0, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
              [4096, 5000, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
            ],
          }),
          4000,
        ),
      TocUnusable,
    );
    assert.ok(
      checkToc(
        tocSchema.parse({
          ...base,
          files: [entry],
          frames: [
            [0, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
            [4096, 100, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
          ],
        }),
        4000,
      ),
    );
  });
  it('is refused by its schema when a field is not bounded', () => {
    assert.equal(tocSchema.safeParse({ ...base, files: [{ ...entry, offset: -1 }] }).success, false);
    assert.equal(tocSchema.safeParse({ ...base, files: [{ ...entry, path: 'x'.repeat(5000) }] }).success, false);
    assert.equal(tocSchema.safeParse({ ...base, version: 2 }).success, false);
  });
});
