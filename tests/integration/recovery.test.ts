import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startPostgres, startS3 } from '../harness/index.js';
import { startCore, type Core } from '../../electron/core/app.js';
import { thisInstance } from '../../electron/core/kernel/instance.js';

const BUCKET = 'dg-recovery';
// Short enough to see a takeover in seconds, with slack for a busy machine.
const LEASE = { heartbeatMs: 300, staleMs: 3_000, checkMs: 300 };

let pg: Awaited<ReturnType<typeof startPostgres>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;
let work: string;
let dataDir: string;
let databaseUrl: string;
let localDir: string;
let jobId: string;
let child: ChildProcess | undefined;
const cores: Core[] = [];

/** An instance on the shared metadata database; a second one has a data folder of its own (one process per folder). */
async function core(folder = dataDir): Promise<Core> {
  const c = await startCore({ mode: 'headless', dataDir: folder, databaseUrl, checkOutput: true, lease: LEASE });
  cores.push(c);
  return c;
}

async function call(c: Core, channel: string, input: unknown = {}) {
  const r = await c.dispatch(channel, input);
  assert.ok(r.ok, JSON.stringify(r));
  return r.data as Record<string, unknown> & { id: string };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  for (const end = Date.now() + timeoutMs; ;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const execution = async (id: string) =>
  (
    await pg.query<{ status: string; error_message: string | null; heartbeat_at: Date | null }>(
      `SELECT status, error_message, heartbeat_at FROM backup_executions WHERE id = $1`,
      'dg_recovery',
      [id],
    )
  )[0]!;

/** Files under a folder, recursively (the local storage, s3rver's store). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

before(async () => {
  work = mkdtempSync('/tmp/dg-recovery-');
  chmodSync(work, 0o755);
  dataDir = path.join(work, 'data');
  mkdirSync(dataDir);
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  await s3.createBucket(BUCKET);
  client = new S3Client(s3.clientConfig);
  await pg.createDatabase('dg_recovery');
  databaseUrl = pg.url('dg_recovery');
  localDir = path.join(work, 'local');
  mkdirSync(localDir);
  // 200 MB that does not compress, written as four 50 MB parts; on S3 each part is a multipart upload.
  const source = path.join(work, 'source');
  mkdirSync(source);
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, `blob-${i}.bin`), randomBytes(10 * 1024 * 1024));

  const setup = await core();
  const datasource = await call(setup, 'datasources.create', { name: 'Big folder', type: 'files', connection_config: { source_path: source } });
  const local = await call(setup, 'storages.create', { name: 'Disk', type: 'local', config: { path: localDir } });
  const bucket = await call(setup, 'storages.create', {
    name: 'Bucket',
    type: 's3',
    config: {
      endpoint: s3.endpoint,
      bucket: BUCKET,
      region: s3.region,
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
      force_path_style: true,
    },
  });
  jobId = (
    await call(setup, 'jobs.create', {
      name: 'Big',
      datasource_id: datasource.id,
      storage_location_ids: [local.id, bucket.id],
      storage_strategy: 'replicate',
      schedule_cron: '0 3 * * *',
      retention_policy: { max_backups: 5 },
      backup_options: { compression: 'none', max_file_size_mb: 50 },
    })
  ).id;
  await setup.close();
});

after(async () => {
  child?.kill('SIGKILL');
  for (const c of cores) await c.close().catch(() => undefined);
  client?.destroy();
  await Promise.all([pg?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('recovery after a crash', () => {
  it('a backup killed (-9) mid-upload is failed as interrupted by the next start, leaving no file and no open upload, and the next run succeeds', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', path.resolve('tests/support/core-process.ts')], {
      env: { ...process.env, DG_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, DG_TEST_LEASE: JSON.stringify(LEASE), DG_TEST_RUN_JOB: jobId },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const executionId = await until('the child to queue the backup', 120_000, async () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { data: { execution_id: string } }).data.execution_id : undefined;
    });
    // The local copy is complete (manifest included) and S3 is mid-way through a multipart upload.
    const uploads = path.join(s3.dir, BUCKET, '._S3rver_uploads');
    await until('an S3 multipart upload in progress', 180_000, async () => filesUnder(uploads).length > 2);
    assert.equal((await execution(executionId)).status, 'running');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    assert.ok(filesUnder(path.join(localDir, jobId)).length > 0, 'the kill left files on the local storage');
    assert.ok(filesUnder(uploads).length > 0, 'the kill left an open multipart upload');

    const restarted = await core();
    const ended = await until('the run to be taken as interrupted', 30_000, async () => {
      const row = await execution(executionId);
      return row.status === 'failed' ? row : undefined;
    });
    assert.match(ended.error_message ?? '', /^Interrupted/);
    // Each copy's row is updated once its storage is cleaned.
    await until('the partial files to be removed', 30_000, async () => {
      const rows = await pg.query(`SELECT 1 FROM backup_copies WHERE execution_id = $1 AND backup_path IS NOT NULL`, 'dg_recovery', [executionId]);
      return rows.length === 0;
    });
    assert.deepEqual(filesUnder(path.join(localDir, jobId)), []);
    const objects = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${jobId}/` }));
    assert.equal(objects.KeyCount ?? 0, 0, JSON.stringify(objects.Contents?.map((o) => o.Key)));
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(open.Uploads?.length ?? 0, 0);
    assert.deepEqual(filesUnder(uploads), []);
    const copies = await pg.query<{ status: string; backup_path: string | null }>(
      `SELECT status, backup_path FROM backup_copies WHERE execution_id = $1`,
      'dg_recovery',
      [executionId],
    );
    assert.deepEqual(
      copies.map((c) => [c.status, c.backup_path]),
      [
        ['failed', null],
        ['failed', null],
      ],
    );

    const next = await call(restarted, 'jobs.run', { id: jobId });
    const done = await until('the next backup', 300_000, async () => {
      const row = await execution(next.execution_id as string);
      return ['completed', 'failed'].includes(row.status) ? row : undefined;
    });
    assert.equal(done.status, 'completed', done.error_message ?? '');
  });

  /** A run another process claimed: started long ago, its lease fresh, its process as `instance` says. */
  async function foreignRun(instance: Record<string, unknown>): Promise<string> {
    const [inserted] = await pg.query<{ id: string }>(
      `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, heartbeat_at, backup_type, metadata, instance)
       SELECT id, datasource_id, storage_location_id, 'backup', 'running', now() - interval '1 hour', now(), 'full', '{"execution_logs": []}', $2 FROM backup_jobs WHERE id = $1
       RETURNING id`,
      'dg_recovery',
      [jobId, JSON.stringify(instance)],
    );
    return inserted!.id;
  }

  it('a run of another machine whose lease is fresh is not taken by an instance here, until its lease runs out', async () => {
    const id = await foreignRun({
      machine: 'another-machine-id',
      host: 'nas-2',
      boot_id: 'another-boot',
      pid: process.pid,
      start_ticks: 1,
      started_at: new Date().toISOString(),
    });
    const beat = setInterval(() => void pg.query(`UPDATE backup_executions SET heartbeat_at = now() WHERE id = $1`, 'dg_recovery', [id]), LEASE.heartbeatMs);
    try {
      await core(mkdtempSync(path.join(work, 'data-'))); // a second instance, on a folder of its own
      // Several checks and more than one lease length.
      await new Promise((r) => setTimeout(r, LEASE.staleMs + 2_000));
      assert.equal((await execution(id)).status, 'running');
    } finally {
      clearInterval(beat);
    }
    // Its process "dies": the lease runs out and the other instance takes over.
    const row = await until('the stale run to be taken over', 30_000, async () => {
      const r = await execution(id);
      return r.status === 'failed' ? r : undefined;
    });
    assert.match(row.error_message ?? '', /^Interrupted/);
  });

  it('a run of a process that died on this machine is taken at once, though its lease is fresh', async () => {
    const dead = spawnSync('true');
    const id = await foreignRun({ ...thisInstance(), pid: dead.pid, start_ticks: 1, started_at: new Date(Date.now() - 60_000).toISOString() });
    // Far longer than the test waits: only the host rule can take it.
    await pg.query(`UPDATE backup_executions SET heartbeat_at = now() + interval '1 hour' WHERE id = $1`, 'dg_recovery', [id]);
    const row = await until('the run of the dead process to be taken', 10_000, async () => {
      const r = await execution(id);
      return r.status === 'failed' ? r : undefined;
    });
    assert.match(row.error_message ?? '', /^Interrupted/);
  });
});
