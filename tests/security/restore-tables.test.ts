// Chosen tables at the boundary: a name with a NUL or a newline (which would start another line of pg_restore's
// --use-list), an empty name, not a list, too many: 400 before anything is queued. Tables of a folder backup, or beside
// a whole server's database, are refused too; a name is only ever matched against the backup's own list. The CSV export
// of one table refuses the same names.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { startApp, type AppUnderTest } from '../support/app.js';
import { runJob } from '../support/backups.js';

let app: AppUnderTest;
let work: string;

before(async () => {
  work = mkdtempSync('/tmp/dg-sec-tables-');
  chmodSync(work, 0o755);
  app = await startApp();
});

after(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

it('hostile table names are refused with 400 before anything is queued', async () => {
  const id = randomUUID();
  const hostile: unknown[] = [
    ['public.orders\u0000'],
    ['public.orders\n1; 0 0 TABLE public secrets dg'],
    ['orders\r'],
    ['\u007f'],
    [''],
    ['x'.repeat(1025)],
    'public.orders',
    [42],
    [],
    Array.from({ length: 10_001 }, (_, i) => `t${i}`),
  ];
  for (const tables of hostile) {
    const r = await app.http('POST', `/api/backups/${id}/restore`, { target_database: 'copy', tables });
    assert.equal(r.status, 400, `${JSON.stringify(tables).slice(0, 80)}: ${r.text.slice(0, 300)}`);
    assert.equal(r.body.error?.code ?? r.body.code, 'validation_error', r.text.slice(0, 300));
  }
  for (const name of ['public.orders%00', 'a%0Ab', 'a%0D', '', 'x'.repeat(1100)]) {
    const r = await app.fetch(`/api/backups/${id}/table.csv?name=${name}`);
    assert.equal(r.status, 400, `table.csv?name=${name.slice(0, 40)}`);
  }
  const runs = await app.rpc('executions.list', {});
  assert.ok(runs.body.ok, runs.text);
  assert.ok(!JSON.stringify(runs.body).includes('"operation":"restore"'), 'no restore was queued');
});

it('tables of a folder backup are refused', async () => {
  const src = path.join(work, 'src');
  mkdirSync(src);
  writeFileSync(path.join(src, 'a.txt'), 'a');
  const dir = path.join(work, 'storage');
  mkdirSync(dir);
  const storage = (await app.rpc('storages.create', { name: 'Disk', type: 'local', config: { path: dir } })).body.data;
  const ds = (await app.rpc('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: src } })).body.data;
  const backup = await runJob(app, { name: 'Docs', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } });
  assert.equal(backup.status, 'completed', backup.error_message);
  const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_path: path.join(work, 'out'), tables: ['a.txt'] });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.error?.message ?? r.body.message, /Only a database backup restores chosen tables/);
  const csv = await app.fetch(`/api/backups/${backup.id}/table.csv?name=a.txt`);
  assert.notEqual(csv.status, 200);
  assert.match(await csv.text(), /Only a database backup exports a table as CSV/);
});
