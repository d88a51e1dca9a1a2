// The Backups tab of a whole server: each database's history over the backups shown (a database that failed
// in a partial run is a failed run of that database), and the newest backup that holds several chosen ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackupEntry } from '../../shared/schemas/restore.js';
import { databaseHistories, newestHolding } from '../../renderer/src/server-backups.js';

let n = 0;
function backup(databases: [string, 'completed' | 'failed'][]): BackupEntry {
  const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  return {
    id,
    status: databases.some(([, s]) => s === 'failed') ? 'partial' : 'completed',
    created_at: new Date(Date.UTC(2026, 11, 7, 12, 60 - n)).toISOString(),
    metadata: {
      server: {
        databases: databases.map(([name, status]) => ({
          name,
          artifact: `${name}.dump.zst`,
          status,
          error: status === 'failed' ? 'permission denied' : null,
          size_bytes: 100,
          compressed_size_bytes: 50,
          checksum: status === 'failed' ? null : 'sha256:00',
          parts: 1,
          duration_ms: 20,
          source: {},
        })),
        globals: { artifact: 'globals.sql.zst', status: 'completed', error: null, notes: [] },
        added: [],
        gone: [],
        parallel_databases: 1,
      },
    },
  } as unknown as BackupEntry;
}

test('each database with every run that held it, newest first; its last good run is the one a restore takes', () => {
  const newest = backup([
    ['shop', 'failed'],
    ['sales', 'completed'],
  ]);
  const older = backup([
    ['shop', 'completed'],
    ['sales', 'completed'],
    ['gone_db', 'completed'],
  ]);
  const histories = databaseHistories([newest, older]);
  assert.deepEqual(
    histories.map((h) => h.name),
    ['gone_db', 'sales', 'shop'],
  );
  const shop = histories.find((h) => h.name === 'shop')!;
  assert.deepEqual(
    shop.runs.map((r) => [r.backup.id, r.entry.status]),
    [
      [newest.id, 'failed'],
      [older.id, 'completed'],
    ],
  );
  assert.equal(shop.latestGood!.backup.id, older.id);
  assert.equal(histories.find((h) => h.name === 'sales')!.latestGood!.backup.id, newest.id);
});

test('several chosen restore from the newest backup in which every one of them was backed up', () => {
  const newest = backup([
    ['shop', 'failed'],
    ['sales', 'completed'],
  ]);
  const older = backup([
    ['shop', 'completed'],
    ['sales', 'completed'],
  ]);
  assert.equal(newestHolding([newest, older], ['sales'])!.id, newest.id);
  assert.equal(newestHolding([newest, older], ['sales', 'shop'])!.id, older.id);
  assert.equal(newestHolding([newest, older], ['nope']), null);
  assert.equal(databaseHistories([{ ...newest, metadata: {} } as BackupEntry]).length, 0, 'a one-database backup has no databases of its own');
});
