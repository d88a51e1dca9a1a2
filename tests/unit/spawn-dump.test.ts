// A dump tool's output reaches the pipeline whole even when the tool ends before the pipeline starts reading
// (Node resumes a child's unread stdout at exit, which dropped a small MariaDB dump while an encrypter was being
// made: the backup was stored empty and "completed"). A pipeline that stops reading still ends the tool.
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { spawnDump } from '../../electron/core/engines/process.js';

test('what a tool wrote before it exited is all there when the reading starts late', async () => {
  const dump = spawnDump('/bin/sh', ['-c', 'printf "CREATE TABLE items;\\nINSERT 1;\\n"'], { signal: new AbortController().signal });
  await dump.finished;
  await new Promise((r) => setImmediate(r));
  assert.equal(await text(dump.stream), 'CREATE TABLE items;\nINSERT 1;\n');
});

test('a reader that stops (a storage failed) ends the tool with a broken pipe, not a wait on a full one', async () => {
  const dump = spawnDump('/bin/sh', ['-c', 'yes dump'], { signal: new AbortController().signal });
  for await (const _chunk of dump.stream) break;
  await assert.rejects(dump.finished, /yes failed|sh failed|killed by SIGPIPE|exit code/);
});
