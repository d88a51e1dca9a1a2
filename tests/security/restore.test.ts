// Folder restore from a hostile tar: no setuid, setgid or sticky bit survives, two entries naming one path (the same
// name, or on a case-insensitive disk the same name in another case) are refused, hard links, devices and FIFOs are not
// made, a NUL or a damaged or cut archive is refused; and whatever is refused, the target is left as it was, with no
// staging folder beside it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { filesEngine } from '../../electron/core/engines/files/index.js';
import { caseInsensitive, extractInto } from '../../electron/core/engines/files/untar.js';
import type { RestoreOptions } from '../../electron/core/engines/types.js';
import type { ConnectionConfig } from '../../shared/schemas/datasource.js';
import { removeTempDir, tempDir } from '../harness/index.js';
import { fileSource } from '../../electron/core/engines/source.js';

let work: string;
const signal = new AbortController().signal;

const options = (o: Partial<RestoreOptions> = {}): RestoreOptions => ({
  parallelJobs: 1,
  toolDirs: {},
  tempDir: path.join(work, 'secrets'),
  signal,
  log: () => undefined,
  createDatabase: false,
  overwrite: false,
  source: {},
  ...o,
});
const folder = (source_path: string): ConnectionConfig<'files'> => ({ source_path, include_patterns: [], exclude_patterns: [] });

interface Entry {
  name: string;
  type?: 'file' | 'directory';
  mode?: number;
}

/** A tar written by hand, as someone planting a file in a backup would write it. */
async function handTar(entries: Entry[]): Promise<string> {
  const pack = tar.pack();
  const file = path.join(work, `hand-${randomBytes(4).toString('hex')}.tar`);
  const written = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: e.mode }, done);
      else pack.entry({ name: e.name, mode: e.mode }, '#!/bin/sh\necho planted\n', done);
    });
  }
  pack.finalize();
  await written;
  return file;
}

const modeOf = (p: string) => statSync(p).mode & 0o7777;

/** A tar of raw tar-stream headers (hard links, devices, pax records), as a hostile archive would hold them. */
async function rawTar(entries: (Partial<tar.Header> & { name: string; body?: string })[]): Promise<string> {
  const pack = tar.pack();
  const file = path.join(work, `raw-${randomBytes(4).toString('hex')}.tar`);
  const written = pipeline(pack, createWriteStream(file));
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await written;
  return file;
}

/** Every path under `dir` with its bytes (or `dir/` for a folder), to see that a refused restore changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(d.parentPath, d.name);
    out[path.relative(dir, full)] = d.isDirectory() ? 'dir/' : readFileSync(full, 'utf8');
  }
  return out;
}

before(async () => {
  work = await tempDir('dg-security-restore-');
  mkdirSync(path.join(work, 'secrets'));
});

after(async () => {
  if (work) await removeTempDir(work);
});

describe('folder restore', () => {
  it('strips setuid, setgid and sticky bits from restored files and folders, and keeps the rest of the mode', async () => {
    const archive = await handTar([
      { name: 'shared/', type: 'directory', mode: 0o3775 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: 'shared/run-as-owner', mode: 0o4755 },
      { name: 'shared/run-as-group', mode: 0o2750 },
      { name: 'plain.txt', mode: 0o640 },
    ]);
    const target = path.join(work, 'setuid-target');
    const result = await filesEngine.restore(folder(target), fileSource(archive), options());
    assert.equal(result.files_count, 3);
    assert.equal(modeOf(path.join(target, 'shared/run-as-owner')), 0o755, 'setuid dropped, rwxr-xr-x kept');
    assert.equal(modeOf(path.join(target, 'shared/run-as-group')), 0o750, 'setgid dropped');
    assert.equal(modeOf(path.join(target, 'shared')), 0o775, 'setgid and sticky dropped from a folder');
    assert.equal(modeOf(path.join(target, 'tmp')), 0o777, 'sticky dropped');
    assert.equal(modeOf(path.join(target, 'plain.txt')), 0o640);
  });

  it('finds out whether the target disk is case-insensitive by probing it, and leaves no probe behind', async () => {
    const target = path.join(work, 'probe-target');
    mkdirSync(target);
    // This machine's /tmp is ext4 (case-sensitive); a disk that folds case answers true through the same probe.
    assert.equal(await caseInsensitive(target), false);
    assert.deepEqual(readdirSync(target), []);
    // A target that does not exist yet is probed in its nearest existing folder.
    assert.equal(await caseInsensitive(path.join(target, 'not', 'yet')), false);
    assert.deepEqual(readdirSync(target), []);
  });

  it('on a case-insensitive disk, `a/X` and `A/x` are one path: the second is refused before anything is written', async () => {
    const archive = await handTar([{ name: 'a/', type: 'directory' }, { name: 'a/X' }, { name: 'A/', type: 'directory' }, { name: 'A/x' }]);
    const parent = path.join(work, 'case-folded');
    mkdirSync(parent);
    const target = path.join(parent, 'target');
    await assert.rejects(extractInto(target, archive, options({ overwrite: true }), { caseInsensitive: true }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'validation_error');
      assert.match(e.message, /“A\/x” lands on A\/x, which an earlier entry already writes \(names differing only in case are one file here\)/);
      return true;
    });
    assert.equal(existsSync(target), false, 'nothing was written');
    assert.deepEqual(readdirSync(parent), []);

    // The same archive on a case-sensitive disk holds two different files.
    const restored = await extractInto(target, archive, options(), { caseInsensitive: false });
    assert.equal(restored.files_count, 2);
    assert.deepEqual(readdirSync(target).sort(), ['A', 'a']);
  });

  it('a file placed where a folder of the same name (in another case) was, or inside a file, is refused', async () => {
    const cases: [string, Entry[], boolean, RegExp][] = [
      ['a file over a folder', [{ name: 'Docs/', type: 'directory' }, { name: 'docs' }], true, /“docs” lands on docs/],
      ['a file inside a file', [{ name: 'notes' }, { name: 'NOTES/x' }], true, /“NOTES\/x” would be written inside NOTES, a file an earlier entry writes/],
      ['the same name twice', [{ name: 'f' }, { name: 'f' }], false, /“f” lands on f, which an earlier entry already writes\./],
    ];
    for (const [what, entries, insensitive, reason] of cases) {
      const target = path.join(work, `collide-${randomBytes(4).toString('hex')}`);
      await assert.rejects(extractInto(target, await handTar(entries), options(), { caseInsensitive: insensitive }), reason, what);
      assert.equal(existsSync(target), false, what);
    }
  });

  it('hard links, devices and FIFOs are not made (a hard link could point at any file of the machine); the log says so', async () => {
    const archive = await rawTar([
      { name: 'kept.txt', body: 'kept' },
      { name: 'passwd', type: 'link', linkname: '/etc/passwd' },
      { name: 'up', type: 'link', linkname: '../../outside' },
      { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'disk', type: 'block-device', devmajor: 8, devminor: 0 },
      { name: 'pipe', type: 'fifo' },
    ]);
    const target = path.join(work, 'unmade-target');
    const logged: string[] = [];
    const result = await extractInto(target, archive, options({ log: (_l, m) => logged.push(m) }));
    assert.equal(result.files_count, 1);
    assert.deepEqual(readdirSync(target), ['kept.txt']);
    for (const [name, what] of [
      ['passwd', 'a hard link'],
      ['up', 'a hard link'],
      ['null', 'a character device'],
      ['disk', 'a block device'],
      ['pipe', 'a FIFO'],
    ])
      assert.ok(logged.includes(`Skipped ${name} (${what}): only files, folders and symlinks are restored`), `${name}: ${logged.join('; ')}`);
  });

  it('a hard link whose name climbs out is refused by that name, and nothing is written', async () => {
    const parent = path.join(work, `hard-${randomBytes(4).toString('hex')}`);
    mkdirSync(parent);
    const target = path.join(parent, 'target');
    const archive = await rawTar([
      { name: 'fine.txt', body: 'x' },
      { name: '../escape', type: 'link', linkname: 'fine.txt' },
    ]);
    await assert.rejects(extractInto(target, archive, options()), /“\.\.\/escape” climbs out of the target folder/);
    assert.deepEqual(readdirSync(parent), [], 'no target, no staging folder');
  });

  it('a name or link with a NUL (in a pax record, where tar would cut it) is refused, and nothing is written', async () => {
    for (const entry of [
      { name: 'ok.txt\0/../../../etc/x', pax: { comment: 'a NUL in the path' }, body: 'x' },
      { name: 'link', type: 'symlink' as const, linkname: 'inside\0/../../../etc', pax: { comment: 'a NUL in the link' } },
    ]) {
      const parent = path.join(work, `nul-${randomBytes(4).toString('hex')}`);
      mkdirSync(parent);
      const target = path.join(parent, 'target');
      await assert.rejects(extractInto(target, await rawTar([{ name: 'fine.txt', body: 'x' }, entry]), options()), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'validation_error');
        assert.match(e.message, /holds a NUL character/);
        return true;
      });
      assert.deepEqual(readdirSync(parent), [], 'no target, no staging folder');
    }
  });

  it('an archive cut in the middle of a file, or with a damaged header, is refused and the existing target is left as it was', async () => {
    const parent = path.join(work, `cut-${randomBytes(4).toString('hex')}`);
    const target = path.join(parent, 'target');
    mkdirSync(path.join(target, 'docs'), { recursive: true });
    writeFileSync(path.join(target, 'docs/a.txt'), 'mine');
    const before = snapshot(target);
    const entries = Array.from({ length: 200 }, (_, i) => ({ name: `docs/new-${i}.txt`, body: 'new '.repeat(300) }));
    const whole = await rawTar([...entries, { name: 'docs/a.txt', body: 'theirs' }]);
    const cut = path.join(work, 'cut.tar');
    writeFileSync(cut, readFileSync(whole));
    truncateSync(cut, statSync(whole).size - 3000);
    const damaged = path.join(work, 'damaged.tar');
    const bytes = readFileSync(whole);
    bytes[100 * 2048 + 10] = bytes[100 * 2048 + 10]! ^ 0xff; // the 101st entry's header (each small entry: a 512-byte header and 1,200 bytes of data, padded)
    writeFileSync(damaged, bytes);
    for (const [archive, reason] of [
      [cut, /ends in the middle of an entry/],
      [damaged, /is not a tar header/],
    ] as const) {
      await assert.rejects(extractInto(target, archive, options({ overwrite: true })), reason);
      assert.deepEqual(snapshot(target), before, 'the target is as it was');
      assert.deepEqual(readdirSync(parent), ['target'], 'no staging folder beside it');
    }
  });

  it('a restore into a new folder is one move of the staging folder; into an existing one it merges, replacing only when asked', async () => {
    const parent = path.join(work, `staging-${randomBytes(4).toString('hex')}`);
    mkdirSync(parent);
    const target = path.join(parent, 'target');
    const archive = await handTar([{ name: 'docs/', type: 'directory', mode: 0o750 }, { name: 'docs/a.txt' }, { name: 'b.txt' }]);
    const logged: string[] = [];
    const result = await extractInto(target, archive, options({ log: (_l, m) => logged.push(m) }));
    assert.equal(result.files_count, 2);
    assert.ok(
      logged.some((m) => m.startsWith('2 entries checked and extracted beside the target; moving them into')),
      logged.join('; '),
    );
    assert.deepEqual(readdirSync(parent), ['target'], 'the staging folder became the target');
    assert.equal(modeOf(target), 0o777 & ~process.umask(), "a new target gets the mode a new folder gets, not the staging folder's");
    assert.equal(modeOf(path.join(target, 'docs')), 0o750);

    writeFileSync(path.join(target, 'docs/a.txt'), 'changed');
    writeFileSync(path.join(target, 'docs/mine.txt'), 'mine');
    await assert.rejects(extractInto(target, archive, options()), /docs\/a\.txt already exists/);
    assert.equal(readFileSync(path.join(target, 'docs/a.txt'), 'utf8'), 'changed');
    await extractInto(target, archive, options({ overwrite: true }));
    assert.deepEqual(snapshot(target), {
      'b.txt': '#!/bin/sh\necho planted\n',
      docs: 'dir/',
      'docs/a.txt': '#!/bin/sh\necho planted\n',
      'docs/mine.txt': 'mine',
    });
    assert.deepEqual(readdirSync(parent), ['target']);
  });

  it('a cancelled restore leaves the existing target as it was and no staging folder', async () => {
    const parent = path.join(work, `cancel-${randomBytes(4).toString('hex')}`);
    const target = path.join(parent, 'target');
    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, 'mine.txt'), 'mine');
    const archive = await rawTar(Array.from({ length: 2000 }, (_, i) => ({ name: `f-${i}.txt`, body: 'data '.repeat(100) })));
    const abort = new AbortController();
    // Cancelled as the first read of the archive is handled: entries are already in the staging folder by then.
    const cancelled = extractInto(target, archive, options({ signal: abort.signal }));
    setImmediate(() => abort.abort());
    await assert.rejects(cancelled);
    assert.deepEqual(snapshot(target), { 'mine.txt': 'mine' });
    assert.deepEqual(readdirSync(parent), ['target']);
  });
});
