// Activity's lines: a backup with what followed it (its verification and cleanup), a restore with its
// safety backup; a verification started by hand later is a line of its own; filters by kind; and a
// follow-up whose backup is on a page not loaded yet waits for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Execution } from '../../shared/schemas/execution.js';
import { activityLines, followUpWords } from '../../renderer/src/activity.js';

let n = 0;
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 7, 12, minutes)).toISOString();
function run(over: Partial<Execution> & Pick<Execution, 'operation'>, minute: number): Execution {
  return {
    id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    job_id: 'job-a',
    job_name: 'Docs',
    datasource_id: null,
    datasource_name: 'Docs',
    datasource_type: 'files',
    storage_location_id: 'disk',
    status: 'completed',
    trigger: 'manual',
    scheduled_for: null,
    attempt: 1,
    retry_of: null,
    started_at: at(minute),
    finished_at: at(minute + 1),
    duration_seconds: 60,
    size_bytes: null,
    compressed_size_bytes: null,
    backup_path: null,
    backup_type: 'full',
    files_count: null,
    error_message: null,
    metadata: {},
    created_at: at(minute),
    copies: [],
    deleted_at: null,
    deleted_by: null,
    pin: null,
    ...over,
  };
}

const backup = run({ operation: 'backup', trigger: 'schedule' }, 0);
const verify = run({ operation: 'verify', trigger: 'after_backup', metadata: { source_execution_id: backup.id, method: 'checksum' } }, 1);
const cleanup = run({ operation: 'cleanup', trigger: 'after_backup', metadata: { deleted: [{}, {}] } }, 1);
const byHand = run({ operation: 'verify', trigger: 'manual', metadata: { source_execution_id: backup.id, method: 'restore-test' } }, 30);
const restore = run({ operation: 'restore', metadata: {} }, 40);
const safety = run({ operation: 'backup', metadata: { safety_for: restore.id } }, 40);
const newestFirst = [restore, safety, byHand, cleanup, verify, backup].sort((a, b) => b.created_at.localeCompare(a.created_at) || (a.id < b.id ? 1 : -1));

test('a backup carries its verification and cleanup, a restore its safety backup; a later check by hand stands alone', () => {
  const lines = activityLines(newestFirst, null, true);
  assert.deepEqual(
    lines.map((l) => l.run.id),
    [restore.id, byHand.id, backup.id],
  );
  assert.deepEqual(
    lines[0]!.followUps.map((f) => f.id),
    [safety.id],
  );
  assert.deepEqual(lines[1]!.followUps, []);
  const group = lines.find((l) => l.run.id === backup.id)!;
  assert.deepEqual(group.followUps.map((f) => f.id).sort(), [verify.id, cleanup.id].sort());
  assert.deepEqual(
    group.followUps
      .map(followUpWords)
      .map((w) => w.text)
      .sort(),
    ['pruned 2', 'verified ✓'],
  );
});

test('filters: backups and restores as groups, verifications, drills and cleanups each on their own line', () => {
  assert.deepEqual(
    activityLines(newestFirst, 'backups', true).map((l) => l.run.id),
    [backup.id],
  );
  assert.deepEqual(
    activityLines(newestFirst, 'restores', true).map((l) => l.run.id),
    [restore.id],
  );
  assert.deepEqual(
    activityLines(newestFirst, 'verifications', true).map((l) => l.run.id),
    [verify.id],
  );
  assert.deepEqual(
    activityLines(newestFirst, 'drills', true).map((l) => l.run.id),
    [byHand.id],
  );
  assert.deepEqual(
    activityLines(newestFirst, 'cleanups', true).map((l) => l.run.id),
    [cleanup.id],
  );
});

test('a follow-up whose backup is on a page not loaded yet waits for that page', () => {
  const firstPage = newestFirst.filter((e) => e.id !== backup.id);
  const partial = activityLines(firstPage, null, false).map((l) => l.run.id);
  assert.ok(!partial.includes(verify.id) && !partial.includes(cleanup.id), 'not on lines of their own while more pages exist');
  assert.ok(partial.includes(byHand.id));
  // The end of the list: nothing older will come, so they show (their backup is gone from the list).
  const all = activityLines(firstPage, null, true).map((l) => l.run.id);
  assert.ok(all.includes(verify.id) && all.includes(cleanup.id));
});
