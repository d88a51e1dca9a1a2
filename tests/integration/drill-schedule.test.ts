// Drills on a schedule, on a ManualClock (weeks in seconds) with a real PostgreSQL as the metadata database and a
// folder backed up to a local storage: a weekly drill runs exactly once a week across a DST change, never beside
// its job's backup, and is caught up once after the app was away.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTempDir, startPostgres, tempDir, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';

let server: PgServer;
let work: string;
let app: AppUnderTest;
let clock: ManualClock;
let dataDir: string;

async function call(channel: string, input: unknown = {}): Promise<Json> {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

async function idle(timeoutMs = 60_000) {
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

/** Moves the clock a day at a time (firing the scheduler's timers on the way), waiting for what each day started. */
async function walk(to: string) {
  for (let t = clock.now().getTime() + 86_400_000; t <= new Date(to).getTime(); t += 86_400_000) {
    await clock.set(new Date(t));
    await idle();
  }
  await clock.set(to);
  await idle();
}

const drillsOf = async (jobId: string) =>
  (await app.core.db.query(
    `SELECT status, trigger, scheduled_for, error_message FROM backup_executions WHERE job_id = $1 AND operation = 'drill' ORDER BY scheduled_for`,
    [jobId],
  )) as { status: string; trigger: string; scheduled_for: Date; error_message: string | null }[];

/** Every running backup and drill, per job, from the app's own events: a drill must never run beside its job's backup. */
const overlaps: string[] = [];
function watchOverlaps() {
  const running = new Map<string, { op: string; job: string | null }>();
  app.core.events.onAny((name, payload) => {
    if (name !== 'execution.status') return;
    const p = payload as { execution_id: string; job_id: string | null; status: string };
    if (p.status !== 'running') return void running.delete(p.execution_id);
    void app.core.db.query('SELECT operation FROM backup_executions WHERE id = $1', [p.execution_id]).then((rows: { operation: string }[]) => {
      const op = rows[0]?.operation ?? '?';
      for (const other of running.values()) if (other.job === p.job_id && other.op !== op) overlaps.push(`${op} beside ${other.op}`);
      running.set(p.execution_id, { op, job: p.job_id });
    });
  });
}

before(async () => {
  server = await startPostgres();
  work = await tempDir('dg-drill-schedule-');
  await server.createDatabase('drills');
  clock = new ManualClock('2026-02-20T00:00:00Z');
  dataDir = await tempDir('dg-drill-schedule-app-', { owner: 'root', mode: 0o755 });
  app = await startApp({ databaseUrl: server.url('drills'), clock, dataDir });
  watchOverlaps();
});

after(async () => {
  await app?.stop().catch(() => undefined);
  await server?.stop();
  if (work) await removeTempDir(work);
});

describe('drills on a schedule', () => {
  it('weekly: exactly once a week across the spring DST change (New York), never beside the job’s backup, caught up once after downtime', async () => {
    const source = path.join(work, 'source');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'notes.txt'), 'a small folder to back up\n');
    const storageDir = path.join(work, 'storage');
    mkdirSync(storageDir);
    const ds = await call('datasources.create', { name: 'Folder', type: 'files', connection_config: { source_path: source } });
    const storage = await call('storages.create', { name: 'Disk', type: 'local', config: { path: storageDir } });
    // The backup runs daily at 04:00 and the drill on Sundays at 04:00, the same minute: the drill waits for the backup.
    const job = await call('jobs.create', {
      name: 'Docs',
      datasource_id: ds.id,
      storage_location_ids: [storage.id],
      schedule_cron: '0 4 * * *',
      schedule_timezone: 'America/New_York',
      retention_policy: { max_backups: 1000, auto_delete: true },
      drill_cron: '0 4 * * 0',
    });
    assert.equal(job.drill_cron, '0 4 * * 0');
    assert.equal(job.next_drill_at, '2026-02-22T09:00:00.000Z');
    await walk('2026-03-23T00:00:00Z');
    const drills = await drillsOf(job.id);
    assert.deepEqual(
      drills.map((d) => [d.scheduled_for.toISOString(), d.trigger, d.status]),
      [
        ['2026-02-22T09:00:00.000Z', 'schedule', 'completed'],
        ['2026-03-01T09:00:00.000Z', 'schedule', 'completed'],
        // 8 March: clocks spring forward at 02:00; 04:00 EDT is 08:00 UTC.
        ['2026-03-08T08:00:00.000Z', 'schedule', 'completed'],
        ['2026-03-15T08:00:00.000Z', 'schedule', 'completed'],
        ['2026-03-22T08:00:00.000Z', 'schedule', 'completed'],
      ],
    );
    assert.deepEqual(overlaps, []);

    // Three weeks away: one catch-up drill for the latest missed slot, not three.
    await app.stop({ keepData: true });
    await clock.set('2026-04-14T12:00:00Z');
    app = await startApp({ databaseUrl: server.url('drills'), clock, dataDir });
    await idle();
    const after = (await drillsOf(job.id)).slice(5);
    assert.deepEqual(
      after.map((d) => [d.scheduled_for.toISOString(), d.trigger]),
      [['2026-04-12T08:00:00.000Z', 'catch_up']],
    );

    // Paused: no drill runs; resumed, the next slot is from now.
    await call('settings.update', { 'schedules.paused': true });
    await walk('2026-04-27T00:00:00Z');
    assert.equal((await drillsOf(job.id)).length, 6);
  });
});
