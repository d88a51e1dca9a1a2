// Jobs run by themselves: DST across months, exactly once across instances and restarts, catch-up,
// skipped slots, retries and pause. The app runs in-process on a ManualClock (months in seconds), with a
// real PostgreSQL from the harness as its metadata database, a `files` datasource on a temp folder and a
// local storage: every run is a real, fast backup.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTempDir, startPostgres, tempDir, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';

let server: PgServer;
let work: string;
const apps: AppUnderTest[] = [];
let databases = 0;

before(async () => {
  server = await startPostgres();
  work = await tempDir('dg-scheduler-test-');
});

after(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await server?.stop();
  if (work) await removeTempDir(work);
});

interface Row {
  id: string;
  status: string;
  trigger: string;
  scheduled_for: Date | null;
  attempt: number;
  retry_of: string | null;
  error_message: string | null;
  finished_at: Date | null;
}

/** A fresh metadata database on the harness server, a clock, and a datasource and a storage to back up with. */
async function setup(start: string) {
  const name = `sched_${++databases}`;
  await server.createDatabase(name);
  const clock = new ManualClock(start);
  const dataDir = await tempDir('dg-scheduler-app-', { owner: 'root', mode: 0o755 });
  const app = await startApp({ databaseUrl: server.url(name), clock, dataDir });
  apps.push(app);
  const source = path.join(work, name, 'source');
  mkdirSync(source, { recursive: true });
  writeFileSync(path.join(source, 'notes.txt'), 'a small folder to back up\n');
  const storageDir = path.join(work, name, 'storage');
  mkdirSync(storageDir);
  const ds = await call(app, 'datasources.create', { name: `Folder ${name}`, type: 'files', connection_config: { source_path: source } });
  const storage = await call(app, 'storages.create', { name: `Disk ${name}`, type: 'local', config: { path: storageDir } });
  const job = (fields: Record<string, unknown>) =>
    // Retention keeps every run here: these tests count the slots a schedule ran.
    call(app, 'jobs.create', {
      name: `Job ${Math.random()}`,
      datasource_id: ds.id,
      storage_location_ids: [storage.id],
      retention_policy: { max_backups: 1000, auto_delete: true },
      ...fields,
    });
  return { app, clock, ds, storage, job, url: server.url(name), dataDir, storageDir };
}

async function call(app: AppUnderTest, channel: string, input: unknown = {}): Promise<Json> {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

const runsOf = async (app: AppUnderTest, jobId: string): Promise<Row[]> =>
  (await app.core.db.query(
    `SELECT id, status, trigger, scheduled_for, attempt, retry_of, error_message, finished_at FROM backup_executions WHERE job_id = $1 AND operation = 'backup' ORDER BY created_at, attempt`,
    [jobId],
  )) as Row[];

const nextOf = async (app: AppUnderTest, jobId: string): Promise<Date | null> =>
  ((await app.core.db.query('SELECT next_execution_at FROM backup_jobs WHERE id = $1', [jobId])) as { next_execution_at: Date | null }[])[0]!.next_execution_at;

/** Until nothing is queued or running and the scheduler has looked at what ended (a failure plans a retry). */
async function idle(app: AppUnderTest, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await app.core.scheduler.settled();
    const [{ n }] = (await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE status IN ('queued','running')`)) as [{ n: number }];
    if (n === 0) break;
    if (Date.now() > until) throw new Error(`${n} execution(s) still queued or running`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await app.core.scheduler.settled();
}

/** Moves the clock (firing the scheduler's timers on the way) and waits until all it started has ended. */
async function step(app: AppUnderTest, clock: ManualClock, to: Date | string) {
  await clock.set(to);
  await app.core.scheduler.settled();
  await idle(app);
}

const iso = (rows: Row[]) => rows.map((r) => r.scheduled_for?.toISOString());

describe('the scheduler', () => {
  it('runs each slot once across DST changes, over a year of clock, in New York and Lisbon', async () => {
    const cases = [
      {
        what: 'monthly 02:30 on the 8th, New York (8 March is spring-forward: 03:00 EDT; November is EST again)',
        cron: '30 2 8 * *',
        tz: 'America/New_York',
        from: '2026-01-01T00:00:00Z',
        until: '2026-12-31T00:00:00Z',
        expect: [
          '2026-01-08T07:30',
          '2026-02-08T07:30',
          '2026-03-08T07:00',
          '2026-04-08T06:30',
          '2026-05-08T06:30',
          '2026-06-08T06:30',
          '2026-07-08T06:30',
          '2026-08-08T06:30',
          '2026-09-08T06:30',
          '2026-10-08T06:30',
          '2026-11-08T07:30',
          '2026-12-08T07:30',
        ],
      },
      {
        what: 'monthly 01:30 on the 1st, New York (1 November is fall-back: 01:30 happens twice, runs once)',
        cron: '30 1 1 * *',
        tz: 'America/New_York',
        from: '2026-01-01T00:00:00Z',
        until: '2026-12-31T00:00:00Z',
        expect: [
          '2026-01-01T06:30',
          '2026-02-01T06:30',
          '2026-03-01T06:30',
          '2026-04-01T05:30',
          '2026-05-01T05:30',
          '2026-06-01T05:30',
          '2026-07-01T05:30',
          '2026-08-01T05:30',
          '2026-09-01T05:30',
          '2026-10-01T05:30',
          '2026-11-01T05:30',
          '2026-12-01T06:30',
        ],
      },
      {
        what: 'daily 02:30, New York spring-forward: once, at 03:00 EDT',
        cron: '30 2 * * *',
        tz: 'America/New_York',
        from: '2026-03-07T00:00:00Z',
        until: '2026-03-09T12:00:00Z',
        expect: ['2026-03-07T07:30', '2026-03-08T07:00', '2026-03-09T06:30'],
      },
      {
        what: 'every 30 minutes, New York spring-forward: 30 real minutes apart',
        cron: '*/30 * * * *',
        tz: 'America/New_York',
        from: '2026-03-08T05:45:00Z',
        until: '2026-03-08T08:15:00Z',
        expect: ['2026-03-08T06:00', '2026-03-08T06:30', '2026-03-08T07:00', '2026-03-08T07:30', '2026-03-08T08:00'],
      },
      {
        what: 'daily 01:30, Lisbon spring-forward (01:00 → 02:00): once, at 02:00 WEST',
        cron: '30 1 * * *',
        tz: 'Europe/Lisbon',
        from: '2026-03-28T00:00:00Z',
        until: '2026-03-30T12:00:00Z',
        expect: ['2026-03-28T01:30', '2026-03-29T01:00', '2026-03-30T00:30'],
      },
      {
        what: 'daily 02:30, Lisbon spring-forward: 02:30 exists there, runs once at it',
        cron: '30 2 * * *',
        tz: 'Europe/Lisbon',
        from: '2026-03-28T00:00:00Z',
        until: '2026-03-30T12:00:00Z',
        expect: ['2026-03-28T02:30', '2026-03-29T01:30', '2026-03-30T01:30'],
      },
      {
        what: 'every 30 minutes, Lisbon spring-forward',
        cron: '*/30 * * * *',
        tz: 'Europe/Lisbon',
        from: '2026-03-29T00:15:00Z',
        until: '2026-03-29T02:15:00Z',
        expect: ['2026-03-29T00:30', '2026-03-29T01:00', '2026-03-29T01:30', '2026-03-29T02:00'],
      },
      {
        what: 'daily 01:30, Lisbon fall-back: runs once, the first 01:30',
        cron: '30 1 * * *',
        tz: 'Europe/Lisbon',
        from: '2026-10-24T00:00:00Z',
        until: '2026-10-26T12:00:00Z',
        expect: ['2026-10-24T00:30', '2026-10-25T00:30', '2026-10-26T01:30'],
      },
      {
        what: 'every 30 minutes, Lisbon fall-back: the repeated hour runs twice, 30 real minutes apart',
        cron: '*/30 * * * *',
        tz: 'Europe/Lisbon',
        from: '2026-10-24T23:45:00Z',
        until: '2026-10-25T02:15:00Z',
        expect: ['2026-10-25T00:00', '2026-10-25T00:30', '2026-10-25T01:00', '2026-10-25T01:30', '2026-10-25T02:00'],
      },
      {
        what: 'daily 01:30, New York fall-back: runs once, the first 01:30 (EDT)',
        cron: '30 1 * * *',
        tz: 'America/New_York',
        from: '2026-10-31T00:00:00Z',
        until: '2026-11-02T12:00:00Z',
        expect: ['2026-10-31T05:30', '2026-11-01T05:30', '2026-11-02T06:30'],
      },
      {
        what: 'every 30 minutes, New York fall-back',
        cron: '*/30 * * * *',
        tz: 'America/New_York',
        from: '2026-11-01T04:45:00Z',
        until: '2026-11-01T07:15:00Z',
        expect: ['2026-11-01T05:00', '2026-11-01T05:30', '2026-11-01T06:00', '2026-11-01T06:30', '2026-11-01T07:00'],
      },
    ];
    const { app, clock, job } = await setup('2026-01-01T00:00:00Z');
    const pending = [...cases].sort((a, b) => a.from.localeCompare(b.from));
    const active = new Map<string, (typeof cases)[number]>();
    const done = new Map<(typeof cases)[number], string>();
    // One timeline: each case's job exists from its `from` to its `until`; the clock steps to whatever comes first.
    for (;;) {
      const times: { at: number; create?: (typeof cases)[number] }[] = [];
      if (pending[0]) times.push({ at: Date.parse(pending[0].from), create: pending[0] });
      for (const [id, c] of active) {
        const next = await nextOf(app, id);
        if (!next || next.getTime() > Date.parse(c.until)) {
          await call(app, 'jobs.update', { id, enabled: false });
          active.delete(id);
          done.set(c, id);
        } else times.push({ at: next.getTime() });
      }
      if (times.length === 0) break;
      const first = times.sort((a, b) => a.at - b.at || (a.create ? -1 : 1))[0]!;
      await step(app, clock, new Date(first.at));
      if (first.create) {
        pending.shift();
        active.set((await job({ schedule_cron: first.create.cron, schedule_timezone: first.create.tz })).id, first.create);
      }
    }
    for (const c of cases) {
      const runs = await runsOf(app, done.get(c)!);
      assert.deepEqual(
        runs.map((r) => r.scheduled_for!.toISOString().slice(0, 16)),
        c.expect,
        c.what,
      );
      assert.ok(
        runs.every((r) => r.trigger === 'schedule' && r.status === 'completed'),
        `${c.what}: ${JSON.stringify(runs.map((r) => [r.trigger, r.status, r.error_message]))}`,
      );
    }
  });

  it('two instances on one metadata database run a due slot once', async () => {
    const a = await setup('2026-05-01T00:00:00Z');
    const clockB = new ManualClock('2026-05-01T00:00:00Z');
    const b = await startApp({ databaseUrl: a.url, clock: clockB, dataDir: await tempDir('dg-scheduler-app-', { owner: 'root', mode: 0o755 }) });
    apps.push(b);
    const job = await a.job({ schedule_cron: '* * * * *' });
    // Five slots, each looked at by both instances at the same moment.
    for (let minute = 1; minute <= 5; minute++) {
      const at = new Date(Date.parse('2026-05-01T00:00:00Z') + minute * 60_000);
      await Promise.all([a.clock.set(at), clockB.set(at)]);
      await Promise.all([a.app.core.scheduler.look(), b.core.scheduler.look(), a.app.core.scheduler.look(), b.core.scheduler.look()]);
      await Promise.all([idle(a.app), idle(b)]);
    }
    const runs = await runsOf(a.app, job.id);
    assert.deepEqual(
      iso(runs),
      ['01', '02', '03', '04', '05'].map((m) => `2026-05-01T00:${m}:00.000Z`),
    );
    assert.ok(
      runs.every((r) => r.status === 'completed' && r.trigger === 'schedule'),
      JSON.stringify(runs),
    );
  });

  it('a restart between the claim of a slot and its start still runs it once', async () => {
    const s = await setup('2026-05-01T00:10:00Z');
    const job = await s.job({ schedule_cron: '0 * * * *' });
    // Another job's run on the same datasource holds it (as if another instance were running it), so the claimed slot stays queued.
    const other = await s.job({ schedule_cron: '0 3 1 1 *' });
    const [blocker] = (await s.app.core.db.query(
      `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, backup_type, metadata)
       VALUES ($1, $2, $3, 'backup', 'running', $4, 'full', '{"execution_logs":[]}') RETURNING id`,
      [other.id, s.ds.id, s.storage.id, s.clock.now()],
    )) as [{ id: string }];
    await s.clock.set('2026-05-01T01:00:00Z');
    await s.app.core.scheduler.settled();
    const claimed = await runsOf(s.app, job.id);
    assert.deepEqual(
      claimed.map((r) => [r.status, r.trigger, r.scheduled_for?.toISOString()]),
      [['queued', 'schedule', '2026-05-01T01:00:00.000Z']],
    );
    assert.equal((await nextOf(s.app, job.id))?.toISOString(), '2026-05-01T02:00:00.000Z', 'the claim moved next_execution_at on');

    await s.app.stop({ keepData: true });
    await server.query(`UPDATE backup_executions SET status = 'failed', finished_at = now() WHERE id = $1`, s.url.split('/').pop(), [blocker.id]);
    const again = await startApp({ databaseUrl: s.url, clock: s.clock, dataDir: s.dataDir });
    apps.push(again);
    await again.core.scheduler.look();
    await idle(again);
    const runs = await runsOf(again, job.id);
    assert.deepEqual(
      runs.map((r) => [r.status, r.scheduled_for?.toISOString()]),
      [['completed', '2026-05-01T01:00:00.000Z']],
      'the queued slot ran after the restart, and was not claimed again',
    );
  });

  it('catches up once after the app was stopped across three slots, or not at all with skip', async () => {
    const s = await setup('2026-06-01T00:10:00Z');
    const once = await s.job({ schedule_cron: '0 * * * *' });
    const skip = await s.job({ schedule_cron: '0 * * * *', catch_up: 'skip' });
    assert.equal(once.catch_up, 'once', 'once is the default');
    await s.app.stop({ keepData: true });
    await s.clock.set('2026-06-01T03:30:00Z'); // 01:00, 02:00 and 03:00 pass while it is stopped
    const again = await startApp({ databaseUrl: s.url, clock: s.clock, dataDir: s.dataDir });
    apps.push(again);
    await idle(again);
    const runs = await runsOf(again, once.id);
    assert.deepEqual(
      runs.map((r) => [r.trigger, r.status, r.scheduled_for?.toISOString()]),
      [['catch_up', 'completed', '2026-06-01T03:00:00.000Z']],
    );
    assert.deepEqual(await runsOf(again, skip.id), []);
    for (const id of [once.id, skip.id]) assert.equal((await nextOf(again, id))?.toISOString(), '2026-06-01T04:00:00.000Z');
    const listed = await call(again, 'jobs.get', { id: once.id });
    assert.equal(listed.last_result.trigger, 'catch_up');
    assert.equal(listed.last_result.status, 'completed');
  });

  it('records a slot that comes while the job still runs as skipped, with the reason, visible in Activity', async () => {
    const s = await setup('2026-07-01T00:10:00Z');
    const job = await s.job({ schedule_cron: '0 * * * *' });
    const [running] = (await s.app.core.db.query(
      `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, backup_type, metadata)
       VALUES ($1, $2, $3, 'backup', 'running', $4, 'full', '{"execution_logs":[]}') RETURNING id`,
      [job.id, s.ds.id, s.storage.id, s.clock.now()],
    )) as [{ id: string }];
    await s.clock.set('2026-07-01T01:00:00Z');
    await s.app.core.scheduler.settled();
    const activity = await call(s.app, 'executions.list', { job_id: job.id });
    const skipped = activity.find((e: Json) => e.status === 'skipped');
    assert.ok(skipped, JSON.stringify(activity));
    assert.equal(skipped.trigger, 'schedule');
    assert.equal(skipped.scheduled_for, '2026-07-01T01:00:00.000Z');
    assert.match(skipped.error_message, /still running/);
    assert.match(skipped.error_message, new RegExp(running.id));
    await s.app.core.db.query(`UPDATE backup_executions SET status = 'completed', finished_at = $2 WHERE id = $1`, [running.id, s.clock.now()]);
    await step(s.app, s.clock, '2026-07-01T02:00:00Z');
    const runs = await runsOf(s.app, job.id);
    assert.deepEqual(
      runs.filter((r) => r.id !== running.id).map((r) => [r.status, r.scheduled_for?.toISOString()]),
      [
        ['skipped', '2026-07-01T01:00:00.000Z'],
        ['completed', '2026-07-01T02:00:00.000Z'],
      ],
      'the next slot runs normally once the job is free',
    );
  });

  it('retries a failed scheduled run 5 and 15 minutes later, then the failure is final', async () => {
    const s = await setup('2026-08-01T02:50:00Z');
    const job = await s.job({ schedule_cron: '0 3 * * *' });
    assert.deepEqual([job.max_retries, job.retry_delay_minutes], [2, 5], 'the defaults');
    // The storage folder becomes a file: every attempt fails to write.
    rmSync(s.storageDir, { recursive: true });
    writeFileSync(s.storageDir, 'not a folder');
    await step(s.app, s.clock, '2026-08-01T03:00:00Z');
    let runs = await runsOf(s.app, job.id);
    assert.deepEqual(
      runs.map((r) => [r.trigger, r.status, r.attempt]),
      [['schedule', 'failed', 1]],
    );
    const first = runs[0]!;
    await step(s.app, s.clock, '2026-08-01T03:04:59Z');
    assert.equal((await runsOf(s.app, job.id)).length, 1, 'no retry before 5 minutes');
    await step(s.app, s.clock, '2026-08-01T03:05:00Z');
    runs = await runsOf(s.app, job.id);
    assert.deepEqual(
      runs.map((r) => [r.trigger, r.status, r.attempt, r.retry_of]),
      [
        ['schedule', 'failed', 1, null],
        ['retry', 'failed', 2, first.id],
      ],
    );
    await step(s.app, s.clock, '2026-08-01T03:19:59Z');
    assert.equal((await runsOf(s.app, job.id)).length, 2, 'the second retry waits 15 minutes');
    await step(s.app, s.clock, '2026-08-01T03:20:00Z');
    await step(s.app, s.clock, '2026-08-01T05:00:00Z');
    runs = await runsOf(s.app, job.id);
    assert.deepEqual(
      runs.map((r) => [r.trigger, r.status, r.attempt, r.retry_of, r.scheduled_for?.toISOString()]),
      [
        ['schedule', 'failed', 1, null, '2026-08-01T03:00:00.000Z'],
        ['retry', 'failed', 2, first.id, '2026-08-01T03:00:00.000Z'],
        ['retry', 'failed', 3, first.id, '2026-08-01T03:00:00.000Z'],
      ],
      'two retries, then final',
    );
  });

  it('pause, global or per job, stops slots, and what was missed is not caught up after resume', async () => {
    const s = await setup('2026-09-01T00:10:00Z');
    const job = await s.job({ schedule_cron: '0 * * * *' });
    const paused = await call(s.app, 'settings.update', { 'schedules.paused': true });
    assert.equal(paused['schedules.paused'], true);
    assert.equal((await call(s.app, 'jobs.get', { id: job.id })).next_execution_at, null, 'no next run while paused');
    await step(s.app, s.clock, '2026-09-01T03:30:00Z');
    assert.deepEqual(await runsOf(s.app, job.id), []);

    // Paused survives a restart.
    await s.app.stop({ keepData: true });
    const again = await startApp({ databaseUrl: s.url, clock: s.clock, dataDir: s.dataDir });
    apps.push(again);
    await step(again, s.clock, '2026-09-01T03:40:00Z');
    assert.deepEqual(await runsOf(again, job.id), []);
    assert.equal((await call(again, 'settings.get'))['schedules.paused'], true);

    await call(again, 'settings.update', { 'schedules.paused': false });
    assert.equal((await call(again, 'jobs.get', { id: job.id })).next_execution_at, '2026-09-01T04:00:00.000Z', 'resumed from now');
    await again.core.scheduler.settled();
    assert.deepEqual(await runsOf(again, job.id), [], 'nothing missed while paused is caught up');
    await step(again, s.clock, '2026-09-01T04:00:00Z');
    assert.deepEqual(
      (await runsOf(again, job.id)).map((r) => [r.trigger, r.scheduled_for?.toISOString()]),
      [['schedule', '2026-09-01T04:00:00.000Z']],
    );

    // The job's own switch.
    await call(again, 'jobs.update', { id: job.id, enabled: false });
    assert.equal((await call(again, 'jobs.get', { id: job.id })).next_execution_at, null);
    await step(again, s.clock, '2026-09-01T06:30:00Z');
    await call(again, 'jobs.update', { id: job.id, enabled: true });
    assert.equal((await call(again, 'jobs.get', { id: job.id })).next_execution_at, '2026-09-01T07:00:00.000Z');
    await again.core.scheduler.settled();
    await idle(again);
    assert.equal((await runsOf(again, job.id)).length, 1, 'no catch-up of the slots missed while the job was off');
  });
});
