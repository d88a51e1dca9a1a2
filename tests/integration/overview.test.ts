// The Overview, the inbox and the tray model against the real app (embedded metadata PostgreSQL) and a
// real PostgreSQL to back up and check: real backups, real health checks, counted queries.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Logger } from 'typeorm';
import { startPostgres, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let pg: PgServer;
let storageDir: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const datasourceBody = (name: string) => ({
  name,
  type: 'postgres',
  connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
});

/** How many SQL statements `fn` sends to the metadata database. */
async function queriesOf(fn: () => Promise<unknown>): Promise<number> {
  const db = app.core.db;
  const original = db.logger;
  let count = 0;
  const counting: Logger = {
    logQuery: () => void count++,
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
  Object.assign(db, { logger: counting });
  try {
    await fn();
  } finally {
    Object.assign(db, { logger: original });
  }
  return count;
}

before(async () => {
  storageDir = mkdtempSync('/tmp/dg-overview-storage-');
  chmodSync(storageDir, 0o777);
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 2000) g', 'shop');
  app = await startApp();
});

after(async () => {
  await app?.stop();
  await pg?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

describe('overview', () => {
  let shop: Json;
  let job: Json;

  it('a new install answers empty lists', async () => {
    const o = await call('overview.get');
    assert.deepEqual([o.datasources, o.jobs, o.schedules_paused], [[], [], false]);
  });

  it('each datasource has its status, last backup, next run, size trend and latency; each job its runs', async () => {
    shop = await call('datasources.create', datasourceBody('Shop'));
    await call('datasources.create', datasourceBody('Unprotected'));
    const storage = await call('storages.create', { name: 'Disk', type: 'local', config: { path: storageDir } });
    job = await call('jobs.create', { name: 'Shop nightly', datasource_id: shop.id, storage_location_id: storage.id, schedule_cron: '0 3 * * *' });
    for (let n = 0; n < 2; n++) {
      const run = await call('jobs.run', { id: job.id });
      assert.equal((await waitForExecution(app, run.execution_id)).status, 'completed');
      // More rows between the two: the trend must show a growing database.
      await pg.query('INSERT INTO orders SELECT g, md5(g::text) || md5(g::text) FROM generate_series(2001, 12000) g', 'shop');
    }
    for (let n = 0; n < 3; n++) assert.equal((await call('datasources.healthCheck', { id: shop.id })).status, 'ok');

    const o = await call('overview.get');
    assert.deepEqual(
      o.datasources.map((d: Json) => d.name),
      ['Shop', 'Unprotected'],
    );
    const [d, unprotected] = o.datasources;
    assert.equal(d.status, 'healthy');
    assert.equal(d.jobs, 1);
    assert.ok(Date.now() - Date.parse(d.last_backup_at) < 60_000, 'last backup is the one just made');
    assert.equal(new Date(d.next_run_at).toISOString(), job.next_execution_at);
    assert.equal(d.size_trend.length, 2);
    assert.ok(d.size_trend[1].bytes > d.size_trend[0].bytes, 'oldest first, and the database grew');
    assert.ok(d.latency.length >= 1 && d.latency.length <= 2, 'three checks within a minute fall in one or two 5-minute buckets');
    assert.ok(d.latency.every((l: Json) => typeof l.ms === 'number' && l.failed === 0));
    assert.deepEqual([unprotected.jobs, unprotected.next_run_at, unprotected.last_backup_at, unprotected.size_trend], [0, null, null, []]);
    // Every check is minutes old: the last hour by the minute spreads them, rather than 24 hours squeezing them to the edge.
    assert.deepEqual([o.latency_range, o.latency_bucket_seconds], ['1h', 60]);
    const week = await call('overview.get', { range: '7d' });
    assert.deepEqual([week.latency_range, week.latency_bucket_seconds], ['7d', 3600]);
    assert.equal(week.datasources[0].latency.length, 1, 'the three checks fall in one hour');
    const day = await app.http('GET', '/api/overview?range=24h');
    assert.equal(day.body.latency_range, '24h');
    assert.equal((await app.http('GET', '/api/overview?range=1y')).status, 400);

    const [j] = o.jobs;
    assert.equal(j.name, 'Shop nightly');
    assert.deepEqual(
      j.runs.map((r: Json) => r.status),
      ['completed', 'completed'],
    );
    assert.ok(j.runs.every((r: Json) => r.size_bytes > 0 && r.duration_seconds !== null));
  });

  it('answers in the same number of queries whatever the number of datasources and jobs (no query per row)', async () => {
    const few = await queriesOf(() => call('overview.get'));
    for (let n = 0; n < 4; n++) await call('datasources.create', datasourceBody(`Extra ${n}`));
    const many = await queriesOf(() => call('overview.get'));
    assert.equal(many, few);
    // Five series and the settings: counted for real (a logger that saw nothing would pass the equality).
    assert.ok(few >= 6 && few <= 8, `${few} queries`);
  });

  it('says when schedules are paused: no next run', async () => {
    await call('settings.update', { 'schedules.paused': true });
    const o = await call('overview.get');
    assert.equal(o.schedules_paused, true);
    assert.equal(o.datasources.find((d: Json) => d.name === 'Shop').next_run_at, null);
    await call('settings.update', { 'schedules.paused': false });
  });
});

describe('inbox', () => {
  const notify = (type: string, severity: 'info' | 'warning' | 'critical', title: string) =>
    app.core.notifier.notify({ type, severity, entity_type: 'system', entity_id: '00000000-0000-4000-8000-000000000000', title, message: '' });

  it('filters by type and severity (the seed route too), pages without repeating, counts unread and marks read', async () => {
    await call('notifications.markRead');
    const before = (await call('notifications.list', { limit: 500 })).length;
    await notify('connection_lost', 'critical', 'Shop lost');
    await notify('connection_restored', 'info', 'Shop back');
    await notify('connection_lost', 'warning', 'CRM flaky');
    for (let n = 0; n < 5; n++) await notify('restore_completed', 'info', `Backup ${n}`);

    const lost = await app.http('GET', '/api/notifications?type=connection_lost');
    assert.equal(lost.status, 200);
    assert.deepEqual(
      lost.body.map((n: Json) => n.title),
      ['CRM flaky', 'Shop lost'],
    );
    const critical = await app.http('GET', '/api/notifications?type=connection_lost&severity=critical');
    assert.deepEqual(
      critical.body.map((n: Json) => n.title),
      ['Shop lost'],
    );

    const first = await call('notifications.list', { limit: 3 });
    const second = await call('notifications.list', { limit: 3, offset: 3 });
    assert.deepEqual(
      [...first, ...second].map((n: Json) => n.title),
      ['Backup 4', 'Backup 3', 'Backup 2', 'Backup 1', 'Backup 0', 'CRM flaky'],
    );
    assert.equal((await call('notifications.list', { limit: 500 })).length, before + 8);

    assert.deepEqual(await call('notifications.unreadCount'), { unread: 8, critical: 1, warning: 1 });
    // "false" in a query string is false: every notification, not only the unread.
    assert.equal((await app.http('GET', '/api/notifications?unread=false&limit=500')).body.length, before + 8);

    const events: string[] = [];
    const off = app.core.events.onAny((name) => events.push(name));
    assert.deepEqual(await call('notifications.markRead', { ids: [critical.body[0].id] }), { updated: 1 });
    off();
    assert.ok(events.includes('notification.read'), 'the bell and the tray hear of it');
    assert.deepEqual(await call('notifications.unreadCount'), { unread: 7, critical: 0, warning: 1 });
    assert.equal((await app.http('GET', '/api/notifications?unread=true&limit=500')).body.length, 7);
  });
});

describe('tray model from the real database', () => {
  it('shows the unread warning, the job to back up, the last backup and the next run', async () => {
    const model = await app.core.tray({ startAtLogin: false });
    assert.equal(model.state, 'warning', model.tooltip);
    assert.match(model.tooltip, /^1 unread warning\nLast backup (just now|\d+ min ago) · next /);
    const backUp = model.menu.find((i) => i.kind === 'backUpNow');
    assert.deepEqual(backUp?.kind === 'backUpNow' && backUp.jobs.map((j) => j.label), ['Shop nightly']);
    assert.ok(model.menu.some((i) => i.kind === 'notifications' && i.label === 'Notifications (7 unread)'));
  });

  it('paused and read: the paused icon, and Resume', async () => {
    await call('notifications.markRead');
    await call('settings.update', { 'schedules.paused': true });
    const model = await app.core.tray({ startAtLogin: true });
    assert.equal(model.state, 'paused');
    assert.match(model.tooltip, / · schedules paused$/);
    assert.ok(model.menu.some((i) => i.kind === 'resume'));
    assert.ok(model.menu.some((i) => i.kind === 'startAtLogin' && i.checked));
    await call('settings.update', { 'schedules.paused': false });
  });
});
