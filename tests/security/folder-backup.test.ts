// Folder backup of hostile file names: the tar the folder engine writes must not let a name become another entry,
// a pax record of its own, or a path out of the restore target (GNU tar and our restore read the same tree back).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
