// Folder restore from a hostile tar: no setuid, setgid or sticky bit survives, and two entries naming
// one path (the same name, or on a case-insensitive disk the same name in another case) are refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
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
});
