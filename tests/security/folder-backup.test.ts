// Folder backup of hostile file names: the tar the folder engine writes must not let a name become another entry,
// a pax record of its own, or a path out of the restore target (GNU tar and our restore read the same tree back).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { filesEngine } from '../../electron/core/engines/files/index.js';

const dir = mkdtempSync('/tmp/dg-folder-names-');
after(() => rmSync(dir, { recursive: true, force: true }));
const signal = new AbortController().signal;

describe('hostile file names in a folder backup', () => {
  const src = path.join(dir, 'src');
  mkdirSync(src);
  // Long enough to need a pax path record, with what a forged record would need inside it.
  const forged = `${'a'.repeat(120)}\n19 path=..\n.txt`;
  const names = [forged, 'x\n20 linkpath=..\n', `${'b'.repeat(98)}=c`, '-rf', 'naïve ✓ 名前'];
  for (const name of names) writeFileSync(path.join(src, name), `content of ${JSON.stringify(name)}`);

  it('each name is one entry with exactly that name; GNU tar extracts nothing outside the target', async () => {
    const file = path.join(dir, 'names.tar');
    const dump = await filesEngine.dump(
      { source_path: src, include_patterns: [], exclude_patterns: [] },
      { includeTables: [], excludeTables: [], parallelJobs: 1, compressedByPipeline: false, toolDirs: {}, tempDir: dir, signal, log: () => undefined },
    );
    await pipeline(dump.stream, createWriteStream(file));
    assert.equal((await dump.finished).files_count, names.length);

    const extract = tar.extract();
    const feeding = pipeline(createReadStream(file), extract);
    const seen: string[] = [];
    for await (const entry of extract) {
      seen.push(entry.header.name);
      entry.resume();
    }
    await feeding;
    assert.deepEqual(seen.sort(), [...names].sort());

    const out = path.join(dir, 'out', 'target');
    mkdirSync(out, { recursive: true });
    execFileSync('tar', ['-C', out, '-xf', file]);
    assert.deepEqual(readdirSync(out).sort(), [...names].sort());
    assert.deepEqual(readdirSync(path.join(dir, 'out')), ['target'], 'nothing beside the target');
  });
});

describe('a folder changed under the backup by someone who can write to it', () => {
  it('files swapped for FIFOs and for symlinks to a secret while it runs: no hang, and the secret is not in the archive', async () => {
    const src = path.join(dir, 'swapped');
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'the payroll password is hunter2');
    mkdirSync(src);
    // 8 MB: the first piece goes down the pipeline long before the walk reaches the last of these files.
    for (let i = 0; i < 500; i++) writeFileSync(path.join(src, `doc-${String(i).padStart(3, '0')}.txt`), 'x'.repeat(16 * 1024));
    const dump = await filesEngine.dump(
      { source_path: src, include_patterns: [], exclude_patterns: [] },
      { includeTables: [], excludeTables: [], parallelJobs: 1, compressedByPipeline: false, toolDirs: {}, tempDir: dir, signal, log: () => undefined },
    );
    const chunks: Buffer[] = [];
    let first = true;
    const swapLater = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        if (first) {
          // Listed already, not read yet: what a hostile user could do between the listing and the read.
          for (let i = 480; i < 490; i++) {
            rmSync(path.join(src, `doc-${i}.txt`));
            execFileSync('mkfifo', [path.join(src, `doc-${i}.txt`)]);
          }
          for (let i = 490; i < 500; i++) {
            rmSync(path.join(src, `doc-${i}.txt`));
            symlinkSync(secret, path.join(src, `doc-${i}.txt`));
          }
        }
        first = false;
        done();
      },
    });
    await pipeline(dump.stream, swapLater);
    assert.equal((await dump.finished).files_count, 490, 'the FIFOs are left out, the symlinks kept as links');
    const archive = Buffer.concat(chunks);
    assert.ok(!archive.includes('hunter2'), 'the secret file was not read through a symlink');
    const listing = execFileSync('tar', ['-tvf', '-'], { input: archive, encoding: 'utf8' });
    assert.match(listing, new RegExp(`doc-499\\.txt -> ${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
