// Activity and Backups page through a large catalog: every row once, newest first, however many runs
// share a timestamp; Run now starts at once, without waiting for the queue's poll. The real app (embedded
// PostgreSQL) over HTTP; the executions are generated in SQL, as the benchmark does with 100,000.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';

let app: AppUnderTest;
let work: string;
let datasourceId: string;
let jobId: string;
const ROWS = 1234;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/** Every page of a list, following `before` from the last row of each page. */
async function allPages(route: string, rowsOf: (body: Json) => Json[], limit: number): Promise<Json[]> {
  const seen: Json[] = [];
  for (let page = 0; ; page++) {
    const sep = route.includes('?') ? '&' : '?';
    const r = await app.http('GET', `${route}${sep}limit=${limit}${seen.length ? `&before=${seen.at(-1).id}` : ''}`);
    assert.equal(r.status, 200, r.text);
    const rows = rowsOf(r.body);
    seen.push(...rows);
    if (rows.length < limit) return seen;
    assert.ok(page < 1000, 'paging ends');
  }
}

before(async () => {
  work = mkdtempSync('/tmp/dg-catalog-pages-test-');
  chmodSync(work, 0o755);
  app = await startApp();
  const source = path.join(work, 'source');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const ds = await call('datasources.create', { name: 'Files', type: 'files', connection_config: { source_path: source } });
  const storageDir = path.join(work, 'storage');
  mkdirSync(storageDir);
  const storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
  const job = await call('jobs.create', { name: 'Files', datasource_id: ds.id, storage_location_id: storage.id, schedule_cron: '0 3 1 1 *' });
  datasourceId = ds.id;
  jobId = job.id;
  // Three runs share each timestamp: only the id orders them, and a page may end between them.
  await app.core.db.query(
    `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, finished_at,
       size_bytes, compressed_size_bytes, backup_path, metadata, created_at)
     SELECT $1, $2, $3, 'backup', CASE WHEN g % 4 = 0 THEN 'failed' ELSE 'completed' END::execution_status, t, t, 10, 5, 'gen/' || g,
            jsonb_build_object('operation', 'backup', 'job_name', 'Files', 'execution_logs', '[]'::jsonb), t
     FROM generate_series(1, ${ROWS}) g, LATERAL (SELECT timestamptz '2026-01-01' - (g / 3) * interval '1 minute' AS t) x`,
    [job.id, ds.id, storage.id],
  );
  await app.core.db.query(
    `INSERT INTO backup_chunks (execution_id, chunk_number, file_path, size_bytes, checksum)
     SELECT id, 1, backup_path || '/backup.tar', 5, repeat('0', 64) FROM backup_executions WHERE status = 'completed'`,
  );
  await app.core.db.query(
    `INSERT INTO backup_copies (execution_id, storage_location_id, status, backup_path)
     SELECT id, storage_location_id, 'completed', backup_path FROM backup_executions WHERE status = 'completed'`,
  );
});

after(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The order the lists promise: newest first, then by id among runs of the same instant. */
async function expectedOrder(where: string): Promise<string[]> {
  const rows = (await app.core.db.query(`SELECT id FROM backup_executions WHERE ${where} ORDER BY created_at DESC, id DESC`)) as { id: string }[];
  return rows.map((r) => r.id);
}

describe('catalog pages', () => {
  it('Activity returns every execution once across pages, newest first', async () => {
    const rows = await allPages('/api/executions', (b) => b, 100);
    assert.deepEqual(
      rows.map((r) => r.id),
      await expectedOrder('true'),
    );
  });

  it('the status and job filters page the same way', async () => {
    const failed = await allPages('/api/executions?status=failed', (b) => b, 50);
    assert.equal(failed.length, Math.floor(ROWS / 4));
    assert.deepEqual(
      failed.map((r) => r.id),
      await expectedOrder(`status = 'failed'`),
    );
    const ofJob = await allPages(`/api/backup-jobs/${jobId}/executions?status=completed`, (b) => b, 200);
    assert.deepEqual(
      ofJob.map((r) => r.id),
      await expectedOrder(`status = 'completed'`),
    );
  });

  it('Backups returns every completed backup of a datasource once across pages, with its copies checked', async () => {
    const rows = await allPages(`/api/backups/datasources/${datasourceId}`, (b) => b.backups, 150);
    assert.deepEqual(
      rows.map((r) => r.id),
      await expectedOrder(`status = 'completed'`),
    );
    // The generated parts are not on the storage: each copy is checked and found missing.
    assert.ok(rows.every((r) => r.availability.length === 1 && r.availability[0].status === 'missing'));
    const [summary] = await call('backups.datasources');
    assert.equal(summary.backups_count, ROWS - Math.floor(ROWS / 4));
    assert.equal(summary.total_stored_bytes, 5 * summary.backups_count);
    assert.equal(summary.last_backup_at, '2026-01-01T00:00:00.000Z');
  });

  it('a page after a deleted execution says the list changed', async () => {
    const [deleted] = (await app.core.db.query(
      `DELETE FROM backup_executions WHERE id = (SELECT id FROM backup_executions WHERE status = 'failed' LIMIT 1) RETURNING id`,
    )) as [{ id: string }[], number];
    const gone = deleted[0];
    const r = await app.rpc('executions.list', { before: gone!.id });
    assert.equal(r.body.ok, false);
    assert.equal(r.body.error.code, 'not_found');
    assert.match(r.body.error.message, /reload/);
  });
});

describe('Run now', () => {
  let quick: AppUnderTest;
  // When each execution ended, recorded from the start: a run may end before its caller listens.
  const endings = new Map<string, string>();
  const waiting = new Map<string, (status: string) => void>();

  before(async () => {
    // A poll of an hour: only the wake on enqueue can start these runs before the test times out.
    quick = await startApp({ lease: { pollMs: 3_600_000 } });
    quick.core.events.onAny((name, payload) => {
      const e = payload as Json;
      if (name !== 'execution.status' || ['queued', 'running'].includes(e.status)) return;
      endings.set(e.execution_id, e.status);
      waiting.get(e.execution_id)?.(e.status);
    });
  });

  after(() => quick?.stop());

  const ended = (id: string) => (endings.has(id) ? Promise.resolve(endings.get(id)) : new Promise<string>((resolve) => waiting.set(id, resolve)));

  it('starts at once on an idle queue, and runs queued while the queue is claiming start as soon as they can', { timeout: 120_000 }, async () => {
    const source = path.join(work, 'quick');
    mkdirSync(source);
    writeFileSync(path.join(source, 'a.txt'), 'a');
    const storageDir = path.join(work, 'quick-storage');
    mkdirSync(storageDir);
    const ok = async (channel: string, input: unknown) => {
      const r = await quick.rpc(channel, input);
      assert.ok(r.body.ok, r.text);
      return r.body.data;
    };
    const ds = await ok('datasources.create', { name: 'Quick', type: 'files', connection_config: { source_path: source } });
    const storage = await ok('storages.create', { name: 'Quick', type: 'local', config: { path: storageDir } });
    const jobs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = await ok('jobs.create', {
        name: `Quick ${i}`,
        datasource_id: ds.id,
        storage_location_id: storage.id,
        schedule_cron: '0 3 1 1 *',
        backup_options: { compression: 'none', verify_after_backup: 'none' },
      });
      jobs.push(job.id);
    }
    const run = async (id: string) => (await ok('jobs.run', { id })).execution_id as string;
    // One on an idle queue, then all at once: some are queued while the queue is claiming the others.
    assert.equal(await ended(await run(jobs[0]!)), 'completed');
    const ids = await Promise.all(jobs.map(run));
    assert.deepEqual(
      await Promise.all(ids.map(ended)),
      ids.map(() => 'completed'),
    );
  });
});
