// A PostgreSQL backup made with parallel jobs is a tar of pg_dump's folder, read back from a storage anyone
// may have written to: its entries cannot write outside the private unpacking folder (no `../`, no absolute
// path, no links, devices or folders), and a refused tar is refused before the target is touched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { unpackDirectory } from '../../electron/core/engines/postgres/directory.js';
import { postgresEngine } from '../../electron/core/engines/postgres/index.js';
import type { ServerConnectionConfig } from '../../shared/schemas/datasource.js';
import { removeTempDir, tempDir } from '../harness/index.js';
import { fileSource } from '../../electron/core/engines/source.js';

let work: string;
let staging: string;
const signal = new AbortController().signal;

type Entry = { name: string; type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device'; linkname?: string; body?: string };

/** A tar written by hand, as someone planting a file in a backup would write it. */
async function handTar(entries: Entry[]): Promise<string> {
  const pack = tar.pack();
  const file = path.join(work, `hand-${randomBytes(4).toString('hex')}.tar`);
  const written = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (!e.type || e.type === 'file') pack.entry({ name: e.name, mode: 0o644 }, e.body ?? 'planted\n', done);
      else pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o644 }, done);
    });
  }
  pack.finalize();
  await written;
  return file;
}

const toc = { name: 'toc.dat', body: 'PGDMP' };
const ABSOLUTE = `/tmp/dg-planted-${randomBytes(4).toString('hex')}.dat`;

before(async () => {
  work = await tempDir('dg-security-pgdir-');
  staging = path.join(work, 'staging');
  mkdirSync(staging, { mode: 0o700 });
});

after(() => removeTempDir(work));

describe('unpacking a tar of a pg_dump directory', () => {
  const hostile: [string, Entry][] = [
    ['a path climbing out', { name: '../../escaped.dat' }],
    ['an absolute path', { name: ABSOLUTE }],
    ['a path into a subfolder', { name: 'sub/3345.dat' }],
    ['a symlink', { name: '3345.dat', type: 'symlink', linkname: '/etc/passwd' }],
    ['a hard link', { name: '3346.dat', type: 'link', linkname: '/etc/passwd' }],
    ['a folder', { name: 'inner/', type: 'directory' }],
    ['a device', { name: 'tty.dat', type: 'character-device' }],
    ['a hidden name', { name: '.bashrc' }],
  ];
  for (const [what, entry] of hostile) {
    it(`refuses ${what}, and nothing is left outside (or inside) the staging folder`, async () => {
      const file = await handTar([toc, entry, { name: '3347.dat' }]);
      await assert.rejects(unpackDirectory(file, staging, signal), /Refused: the backup's entry .* is not a file of a pg_dump directory/);
      assert.deepEqual(readdirSync(staging), [], 'the unpacking folder is removed');
      assert.equal(existsSync(path.join(work, 'escaped.dat')), false);
      assert.equal(existsSync(path.join(path.dirname(work), 'escaped.dat')), false);
      assert.equal(existsSync(ABSOLUTE), false);
    });
  }

  it('refuses a tar holding one name twice (the second would replace the first)', async () => {
    const file = await handTar([toc, { name: '3345.dat', body: 'one' }, { name: './3345.dat', body: 'two' }]);
    await assert.rejects(unpackDirectory(file, staging, signal), /EEXIST/);
    assert.deepEqual(readdirSync(staging), []);
  });

  it('refuses a tar that is not a pg_dump directory (no toc.dat)', async () => {
    const file = await handTar([{ name: '3345.dat' }]);
    await assert.rejects(unpackDirectory(file, staging, signal), /no toc\.dat/);
    assert.deepEqual(readdirSync(staging), []);
  });

  it('unpacks what pg_dump writes, also as `tar -cf - -C dump .` makes it by hand, into a private folder', async () => {
    const file = await handTar([{ name: './', type: 'directory' }, { name: './toc.dat', body: 'PGDMP' }, { name: './3345.dat.gz' }, { name: 'blobs.toc' }]);
    const { dir, remove } = await unpackDirectory(file, staging, signal);
    assert.deepEqual(readdirSync(dir).sort(), ['3345.dat.gz', 'blobs.toc', 'toc.dat']);
    await remove();
    assert.deepEqual(readdirSync(staging), []);
  });

  it('a refused tar is refused before the target is touched: the server is never contacted', async () => {
    const file = await handTar([toc, { name: '../../escaped.dat' }]);
    // Port 1 on loopback: reaching the target would fail with a connection error instead of the refusal.
    const target: ServerConnectionConfig = { host: '127.0.0.1', port: 1, database: 'never', username: 'nobody', password: 'x', ssl_mode: 'disable' };
    await assert.rejects(
      postgresEngine.restore(target, fileSource(file), {
        parallelJobs: 4,
        toolDirs: {},
        tempDir: staging,
        signal,
        log: () => undefined,
        createDatabase: true,
        overwrite: false,
        source: {},
      }),
      /Refused: the backup's entry “\.\.\/\.\.\/escaped\.dat”/,
    );
    assert.deepEqual(readdirSync(staging), []);
  });
});
