// The health monitor against real components: a PostgreSQL from the harness that is stopped and
// started, local folders that disappear or fill up, jobs that stop backing up (a ManualClock drives
// days across a DST change), and a TCP listener that accepts and never answers. The app's own metadata
// lives on a second harness PostgreSQL, so stopping the watched one never touches it.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventName } from '../../shared/contract.js';
import { freePort, removeTempDir, startMariadb, startPostgres, tempDir, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';

let meta: PgServer;
let watched: PgServer;
let work: string;
const apps: AppUnderTest[] = [];
let databases = 0;

before(async () => {
  [meta, watched] = await Promise.all([startPostgres(), startPostgres()]);
  await watched.createDatabase('shop');
  work = await tempDir('dg-health-test-');
});

after(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await Promise.all([meta?.stop(), watched?.stop()]);
  if (work) await removeTempDir(work);
});

/** A fresh app on its own metadata database, on a ManualClock. */
async function setup(start: string) {
  const name = `health_${++databases}`;
  await meta.createDatabase(name);
  const clock = new ManualClock(start);
  const dataDir = await tempDir('dg-health-app-', { owner: 'root', mode: 0o755 });
  const app = await startApp({ databaseUrl: meta.url(name), clock, dataDir });
  apps.push(app);
  await app.core.health.settled();
  const events: { name: EventName; payload: Json }[] = [];
  app.core.events.onAny((name, payload) => events.push({ name, payload }));
  return { app, clock, events, dir: path.join(work, name) };
}

async function call(app: AppUnderTest, channel: string, input: unknown = {}): Promise<Json> {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

const notes = async (app: AppUnderTest, type: string, severity?: string): Promise<Json[]> =>
  (await call(app, 'notifications.list', { type, limit: 500 })).filter((n: Json) => !severity || n.severity === severity);

const statusOf = async (app: AppUnderTest, table: 'datasources' | 'storage_locations', id: string): Promise<Json> =>
  ((await app.core.db.query(`SELECT * FROM ${table} WHERE id = $1`, [id])) as Json[])[0];

describe('datasource health', () => {
  it('a PostgreSQL that stops: warning, then critical on the third failure with one connection_lost; one connection_restored when it is back', async () => {
    const { app, clock, events } = await setup('2026-03-01T12:00:00Z');
    const ds = await call(app, 'datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: watched.host, port: watched.port, database: 'shop', username: watched.user, password: watched.password },
    });
    // Checked every second: the clock moves one second, then one cycle runs.
    const cycle = async () => {
      await clock.advance(1000);
      await app.core.health.runOnce();
      return (await statusOf(app, 'datasources', ds.id)).status;
    };

    assert.equal(await cycle(), 'healthy');
    const [ok] = await call(app, 'datasources.healthChecks', { id: ds.id, limit: 1 });
    assert.equal(ok.status, 'ok');
    assert.equal(typeof ok.latency_ms, 'number');
    assert.match(ok.metadata.database_version, /^PostgreSQL \d+/);
    assert.equal(typeof ok.metadata.active_connections, 'number');
    assert.ok(ok.metadata.database_size_bytes > 0, 'the database size is told');
    assert.ok(ok.metadata.server_uptime, 'the uptime is told');

    await watched.halt();
    try {
      assert.equal(await cycle(), 'warning');
      assert.equal(await cycle(), 'warning');
      assert.equal((await notes(app, 'connection_lost')).length, 0, 'two failures are not a lost connection');
      assert.equal(await cycle(), 'critical');
      assert.equal(await cycle(), 'critical');
      // A restart (its first cycle runs at start) does not tell it again.
      await app.restart();
      await app.core.health.settled();
      app.core.events.onAny((name, payload) => events.push({ name, payload }));
      assert.equal(await cycle(), 'critical');
    } finally {
      await watched.resume();
    }
    const lost = await notes(app, 'connection_lost');
    assert.equal(lost.length, 1, 'connection_lost once');
    assert.equal(lost[0].severity, 'critical');
    assert.equal(lost[0].entity_id, ds.id);
    assert.equal((await notes(app, 'health_degraded', 'warning')).length, 1, 'health_degraded once, when entering warning');
    const failed = await call(app, 'datasources.healthChecks', { id: ds.id, limit: 5 });
    assert.deepEqual(
      failed.map((c: Json) => c.status),
      ['unreachable', 'unreachable', 'unreachable', 'unreachable', 'unreachable'],
    );
    assert.ok(failed.every((c: Json) => c.error_message && c.latency_ms === null));

    assert.equal(await cycle(), 'healthy');
    assert.equal(await cycle(), 'healthy');
    const restored = await notes(app, 'connection_restored');
    assert.equal(restored.length, 1, 'connection_restored once');
    assert.equal(restored[0].severity, 'info');
    assert.equal((await notes(app, 'connection_lost')).length, 1);
    assert.equal((await notes(app, 'health_degraded')).length, 1, 'the restore speaks for the warning that led to it');

    // The UI hears each change at once, and only changes.
    const changes = events.filter((e) => e.name === 'datasource.status').map((e) => `${e.payload.previous}>${e.payload.status}`);
    assert.deepEqual(changes, ['unknown>healthy', 'healthy>warning', 'warning>critical', 'critical>healthy']);
  });

  it('runs every system.health_check_interval_ms on the app clock, and a new interval takes effect without a restart', async () => {
    const { app, clock, dir } = await setup('2026-03-01T12:00:00Z');
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
    const ds = await call(app, 'datasources.create', { name: 'Folder', type: 'files', connection_config: { source_path: path.join(dir, 'folder') } });
    const checks = async () => (await call(app, 'datasources.healthChecks', { id: ds.id, limit: 100 })).length;
    const advance = async (ms: number) => {
      await clock.advance(ms);
      await app.core.health.settled();
    };
    const first = await checks();
    await advance(299_000);
    assert.equal(await checks(), first, 'not before 5 minutes');
    await advance(1_000);
    assert.equal(await checks(), first + 1, 'the default interval: 5 minutes');
    await call(app, 'settings.update', { 'system.health_check_interval_ms': 60_000 });
    await app.core.health.settled();
    await advance(60_000);
    assert.equal(await checks(), first + 2, 'one minute after the last cycle');
    await advance(60_000);
    assert.equal(await checks(), first + 3);
  });

  it('MariaDB tells its version, uptime, connections and database size', async () => {
    const maria = await startMariadb();
    try {
      await maria.createDatabase('shop');
      await maria.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50))', 'shop');
      await maria.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')", 'shop');
      const { app } = await setup('2026-03-01T12:00:00Z');
      const ds = await call(app, 'datasources.create', {
        name: 'Shop on MariaDB',
        type: 'mariadb',
        connection_config: { host: maria.host, port: maria.port, database: 'shop', username: maria.user, password: maria.password },
      });
      await app.core.health.runOnce();
      const [check] = await call(app, 'datasources.healthChecks', { id: ds.id, limit: 1 });
      assert.equal(check.status, 'ok');
      assert.match(check.metadata.database_version, /^MariaDB \d+/);
      assert.ok(check.metadata.database_size_bytes > 0, `size: ${check.metadata.database_size_bytes}`);
      assert.ok(check.metadata.active_connections >= 1);
      assert.ok(check.metadata.server_uptime);
    } finally {
      await maria.stop();
    }
  });

  it('the Test button follows the same rule: a slow answer is warning, and the threshold is a setting', async () => {
    const { app } = await setup('2026-03-01T12:00:00Z');
    const ds = await call(app, 'datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: watched.host, port: watched.port, database: 'shop', username: watched.user, password: watched.password },
    });
    await call(app, 'settings.update', { 'system.health_latency_warning_ms': 1 });
    // Connecting with a password (scram) takes more than 1 ms on any machine.
    await call(app, 'datasources.healthCheck', { id: ds.id });
    assert.equal((await call(app, 'datasources.get', { id: ds.id })).status, 'warning');
    assert.equal((await notes(app, 'health_degraded', 'warning')).length, 1);
    await call(app, 'settings.update', { 'system.health_latency_warning_ms': 60_000 });
    await call(app, 'datasources.healthCheck', { id: ds.id });
    assert.equal((await call(app, 'datasources.get', { id: ds.id })).status, 'healthy');
    assert.equal((await notes(app, 'health_degraded', 'info')).length, 1, 'the end of the warning is told');
  });

  it('one hanging host does not delay the check of another datasource', async () => {
    const { app, clock, dir } = await setup('2026-03-01T12:00:00Z');
    const port = await freePort();
    // Saved while nothing listens there (refused at once), then a listener that accepts and never answers.
    const hanging = await call(app, 'datasources.create', {
      name: 'Hanging',
      type: 'postgres',
      connection_config: { host: '127.0.0.1', port, database: 'x', username: 'x', password: 'x' },
      save_anyway: true,
    });
    const sockets = new Set<Socket>();
    const listener = createServer((s) => void sockets.add(s.on('error', () => undefined)));
    await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
    const folder = await call(app, 'datasources.create', { name: 'Folder', type: 'files', connection_config: { source_path: path.join(dir, 'folder') } });
    const checksOf = async (id: string) => (await call(app, 'datasources.healthChecks', { id, limit: 10 })).length;
    try {
      const before = { hanging: await checksOf(hanging.id), folder: await checksOf(folder.id) };
      await clock.advance(1000);
      const started = Date.now();
      const cycle = app.core.health.runOnce();
      while ((await checksOf(folder.id)) === before.folder) {
        assert.ok(Date.now() - started < 3000, 'the folder was checked while the other host hung');
        await new Promise((r) => setTimeout(r, 50));
      }
      const folderDone = Date.now() - started;
      assert.equal(await checksOf(hanging.id), before.hanging, 'the hanging host has not answered yet');
      await cycle;
      const [last] = await call(app, 'datasources.healthChecks', { id: hanging.id, limit: 1 });
      assert.equal(last.status, 'timeout');
      assert.ok(Date.now() - started >= 9000, 'the hanging host was waited for its own timeout');
      assert.ok(folderDone < 3000, `folder checked after ${folderDone} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      listener.close();
    }
  });
});

describe('storage health', () => {
  it('a folder that disappears is unreachable, once; one over its max_size_gb is full', async () => {
    const { app, events, dir } = await setup('2026-03-01T12:00:00Z');
    const drive = path.join(dir, 'usb-drive');
    mkdirSync(path.join(drive, 'backups'), { recursive: true });
    const usb = await call(app, 'storages.create', { name: 'USB', type: 'local', config: { path: path.join(drive, 'backups') } });
    await app.core.health.runOnce();
    let row = await statusOf(app, 'storage_locations', usb.id);
    assert.equal(row.status, 'healthy');
    assert.ok(Number(row.available_space_gb) > 0, 'a local storage tells its free space');

    // The drive is unplugged: the folder and the folder it was in are gone.
    const controller = new AbortController();
    const stream = (await app.fetch('/api/events', { signal: controller.signal })).body!.getReader();
    rmSync(drive, { recursive: true, force: true });
    await app.core.health.runOnce();
    await app.core.health.runOnce();
    row = await statusOf(app, 'storage_locations', usb.id);
    assert.equal(row.status, 'unreachable');
    assert.equal((await notes(app, 'storage_unreachable', 'critical')).length, 1, 'storage_unreachable once');
    assert.ok(events.some((e) => e.name === 'storage.status' && e.payload.status === 'unreachable'));
    // The browser hears it over SSE at once.
    let text = '';
    while (!text.includes('event: storage.status')) text += new TextDecoder().decode((await stream.read()).value);
    controller.abort();
    assert.match(text, new RegExp(`event: storage.status\ndata: \\{"storage_id":"${usb.id}","status":"unreachable","previous":"healthy"`));

    mkdirSync(path.join(drive, 'backups'), { recursive: true });
    await app.core.health.runOnce();
    assert.equal((await statusOf(app, 'storage_locations', usb.id)).status, 'healthy');
    assert.equal((await notes(app, 'storage_unreachable', 'info')).length, 1, 'told when it answers again');
    assert.equal((await notes(app, 'storage_unreachable', 'critical')).length, 1);

    const small = path.join(dir, 'small');
    mkdirSync(small);
    const limited = await call(app, 'storages.create', { name: 'Small', type: 'local', config: { path: small, max_size_gb: 0.00001 } });
    await app.core.health.runOnce();
    assert.equal((await statusOf(app, 'storage_locations', limited.id)).status, 'healthy');
    mkdirSync(path.join(small, 'job'));
    writeFileSync(path.join(small, 'job', 'backup.tar.gz'), Buffer.alloc(20_000, 1));
    await app.core.health.runOnce();
    await app.core.health.runOnce();
    assert.equal((await statusOf(app, 'storage_locations', limited.id)).status, 'full');
    const full = await notes(app, 'storage_full', 'warning');
    assert.equal(full.length, 1, 'storage_full once');
    assert.match(full[0].message, /its backups use 19\.5 KB, over its limit of 10\.5 KB/);
    rmSync(path.join(small, 'job'), { recursive: true });
    await app.core.health.runOnce();
    assert.equal((await statusOf(app, 'storage_locations', limited.id)).status, 'healthy');
    assert.equal((await notes(app, 'storage_full', 'info')).length, 1);
  });
});

describe('overdue backups', () => {
  it('a job that stops backing up raises one backup_overdue, a reminder after the cooldown, none once a backup completes; none while paused; across DST', async () => {
    // New York springs forward on Sunday 8 March 2026.
    const { app, clock, dir } = await setup('2026-03-05T00:00:00Z');
    const source = path.join(dir, 'source');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'notes.txt'), 'a small folder to back up\n');
    const drive = path.join(dir, 'drive');
    mkdirSync(path.join(drive, 'storage'), { recursive: true });
    const ds = await call(app, 'datasources.create', { name: 'Folder', type: 'files', connection_config: { source_path: source } });
    const disk = await call(app, 'storages.create', { name: 'Disk', type: 'local', config: { path: path.join(drive, 'storage') } });
    const job = await call(app, 'jobs.create', {
      name: 'Nightly',
      datasource_id: ds.id,
      storage_location_ids: [disk.id],
      schedule_cron: '0 2 * * *',
      schedule_timezone: 'America/New_York',
      max_retries: 0,
      retention_policy: { max_backups: 1000, auto_delete: true },
    });
    const disabled = await call(app, 'jobs.create', {
      name: 'Disabled',
      datasource_id: ds.id,
      storage_location_ids: [disk.id],
      schedule_cron: '0 3 * * *',
      enabled: false,
      retention_policy: { max_backups: 1000, auto_delete: true },
    });
    // Hourly checks: a day is 24 cycles.
    await call(app, 'settings.update', { 'system.health_check_interval_ms': 3_600_000 });

    const overdue = async (severity?: string) => (await notes(app, 'backup_overdue', severity)).filter((n) => n.entity_id === job.id);
    const stepTo = async (to: string) => {
      while (clock.now() < new Date(to)) {
        await clock.advance(3_600_000);
        await idle(app);
      }
    };
    const completed = async () =>
      ((await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE job_id = $1 AND status = 'completed'`, [job.id])) as [{ n: number }])[0]
        .n;

    // Nightly backups across the DST change: never overdue.
    await stepTo('2026-03-10T12:00:00Z');
    assert.equal(await completed(), 6, 'one backup each night, 5 to 10 March');
    assert.equal((await overdue()).length, 0);

    // The backup drive is unplugged: backups fail from 11 March. The newest good one is 10 March 06:00Z
    // (02:00 EDT); 1.5 x 24 h + 1 h later (11 March 19:00Z) it is overdue.
    rmSync(drive, { recursive: true });
    await stepTo('2026-03-11T18:00:00Z');
    assert.equal(await completed(), 6, 'the backup of 11 March failed');
    assert.equal((await overdue()).length, 0, 'not overdue within 1.5x the gap plus grace');
    await stepTo('2026-03-12T12:00:00Z');
    const raised = await overdue('critical');
    assert.equal(raised.length, 1, 'backup_overdue once');
    assert.match(raised[0].title, /Backup overdue: Nightly/);
    await stepTo('2026-03-12T19:00:00Z');
    assert.equal((await overdue('critical')).length, 1, 'no reminder within the cooldown');
    await stepTo('2026-03-12T21:00:00Z');
    assert.equal((await overdue('critical')).length, 2, 'one reminder after the 24 h cooldown');
    assert.match((await overdue('critical'))[0].title, /^Still: Backup overdue/);

    // The drive is back: the next night's backup completes and the alert clears.
    mkdirSync(path.join(drive, 'storage'), { recursive: true });
    await stepTo('2026-03-16T12:00:00Z');
    assert.equal((await overdue('critical')).length, 2, 'none once a backup completed');
    assert.equal((await overdue('info')).length, 1, 'the clear is told');

    // Paused: nothing runs and nothing is overdue, however long.
    await call(app, 'settings.update', { 'schedules.paused': true });
    await stepTo('2026-03-21T12:00:00Z');
    assert.equal((await overdue('critical')).length, 2, 'a paused schedule raises none');
    assert.equal((await notes(app, 'backup_overdue')).filter((n) => n.entity_id === disabled.id).length, 0, 'a disabled job is never overdue');
  });
});

/** Until the scheduler, the runs it started and the health cycle have all settled. */
async function idle(app: AppUnderTest, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await app.core.scheduler.settled();
    await app.core.health.settled();
    const [{ n }] = (await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE status IN ('queued','running')`)) as [{ n: number }];
    if (n === 0) break;
    if (Date.now() > until) throw new Error(`${n} execution(s) still queued or running`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await app.core.scheduler.settled();
  await app.core.health.settled();
}
