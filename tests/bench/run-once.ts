// One DataGuardian operation in a process of its own, so the benchmark reads the peak RSS of the process
// that did the work and nothing else. The core uses the bench's metadata database (DATABASE_URL), so a
// backup made by one run can be restored by the next.
// Usage: bundled by bench.ts, then node run-once.mjs '<json of a Step>'
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createAgeEncrypter } from '../../electron/core/kernel/age.js';
import { startCore } from '../../electron/core/app.js';
import type { Json } from '../support/app.js';
import { coresBusy } from './cpu.js';

export type Task =
  | { op: 'backup'; datasource: Json; storagePath: string; backup_options: Json; runs?: number }
  | { op: 'restore'; execution_id: string; target_database?: string; target_path?: string; paths?: string[] }
  | { op: 'catalog'; datasource_id: string; repeat: number }
  /** Sets up encryption (once per metadata database) and answers the recovery key, for the plain side's `age`. */
  | { op: 'encryption' }
  /** The age encryption stage alone, on a file: read, encrypted as a backup's stream is, thrown away. */
  | { op: 'encrypt-file'; file: string; recipients: string[] };
type Step = Task & { dataDir: string; databaseUrl: string };

/** What a step prints as its last line. */
export interface StepResult {
  seconds: number;
  peak_rss_mb: number;
  /** The resident memory of the started app just before the work began: the peak is this plus what the work needed. */
  idle_rss_mb?: number;
  /** The machine's cores kept busy during the work (see cpu.ts). */
  cores_busy?: number;
  execution_id?: string;
  /** Each run's time from the Run now call to the log line written as the dump tool is spawned. */
  to_dump_start_s?: number[];
  /** catalog: the median of each list call, by name. */
  calls?: Record<string, number>;
  /** encrypt-file: the first pass in the fresh process (typage loaded, memory faulted in). */
  first_s?: number;
  /** restore: the run's log lines, in order (what it read from storage, what it extracted). */
  log?: string[];
  /** encryption: the recovery key (the bench's plain side encrypts to it and decrypts with it). */
  recovery?: { identity: string; recipient: string };
}

const step = JSON.parse(process.argv[2]!) as Step;
const core = await startCore({ mode: 'headless', dataDir: step.dataDir, databaseUrl: step.databaseUrl });
const call = async (name: string, input: unknown): Promise<Json> => {
  const r = await core.dispatch(name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.data as Json;
};

// When each execution ended, as its status event tells (subscribed before any run can end).
const endings = new Map<string, number>();
const waiting = new Map<string, () => void>();
core.events.onAny((name, payload) => {
  const e = payload as { execution_id: string; status: string };
  if (name !== 'execution.status' || ['queued', 'running'].includes(e.status)) return;
  endings.set(e.execution_id, performance.now());
  waiting.get(e.execution_id)?.();
});

/** Waits for an execution to end; answers it as the UI reads it, and when it ended. */
async function ended(id: string): Promise<{ execution: Json; at: number }> {
  if (!endings.has(id)) await new Promise<void>((resolve) => waiting.set(id, resolve));
  const execution = await call('executions.get', { id });
  if (execution.status !== 'completed') throw new Error(`${execution.operation} ${execution.status}: ${execution.error_message}`);
  return { execution, at: endings.get(id)! };
}

/**
 * This process's peak resident memory. VmHWM, not getrusage's maxRSS: on Linux the latter keeps the
 * high-water mark of the parent at fork across exec, so every step would report the bench's own size.
 */
function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

// BENCH_DEBUG: the largest of each part of the process's memory, sampled every 50 ms (where a peak comes from).
const peaks: Record<string, number> = {};
if (process.env.BENCH_DEBUG)
  setInterval(() => {
    for (const [k, v] of Object.entries(process.memoryUsage())) peaks[k] = Math.max(peaks[k] ?? 0, Math.round(v / 2 ** 20));
  }, 50).unref();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  let result: StepResult;
  if (step.op === 'backup') {
    const suffix = Math.random().toString(36).slice(2, 8);
    const ds = await call('datasources.create', { name: `bench ${suffix}`, ...step.datasource });
    const storage = await call('storages.create', { name: `bench ${suffix}`, type: 'local', config: { path: step.storagePath } });
    const job = await call('jobs.create', {
      name: `bench ${suffix}`,
      datasource_id: ds.id,
      storage_location_id: storage.id,
      schedule_cron: '0 3 1 1 *',
      // Spelled out: once encryption is set up, a new job would otherwise encrypt.
      backup_options: { verify_after_backup: 'none', encryption: 'none', ...step.backup_options },
    });
    // `runs` > 1: the same job again in this process, as an app that has been up a while runs it.
    const toDumpStart: number[] = [];
    const idle = rssMb();
    let last: { execution_id: string; seconds: number } | undefined;
    let busy = coresBusy();
    for (let i = 0; i < (step.runs ?? 1); i++) {
      busy = coresBusy();
      const wall = Date.now();
      const started = performance.now();
      const { execution_id } = await call('jobs.run', { id: job.id });
      const { execution, at } = await ended(execution_id);
      const spawned = (execution.metadata.execution_logs as { at: string; message: string }[]).find((l) => l.message.startsWith('Running '));
      if (spawned) toDumpStart.push((Date.parse(spawned.at) - wall) / 1000);
      if (process.env.BENCH_DEBUG)
        console.error(
          wall,
          execution.created_at,
          execution.started_at,
          JSON.stringify(execution.metadata.execution_logs.map((l: Json) => [Date.parse(l.at) - wall, l.message.slice(0, 40)])),
        );
      last = { execution_id, seconds: (at - started) / 1000 };
    }
    result = { ...last!, peak_rss_mb: peakRssMb(), idle_rss_mb: idle, cores_busy: busy(), to_dump_start_s: toDumpStart };
  } else if (step.op === 'restore') {
    const idle = rssMb();
    const busy = coresBusy();
    const started = performance.now();
    const { execution_id } = await call('backups.restore', {
      id: step.execution_id,
      target_database: step.target_database,
      target_path: step.target_path,
      paths: step.paths,
      safety_backup: false,
    });
    const { at, execution } = await ended(execution_id);
    const log = (execution.metadata.execution_logs as { message: string }[]).map((l) => l.message);
    result = { seconds: (at - started) / 1000, peak_rss_mb: peakRssMb(), idle_rss_mb: idle, cores_busy: busy(), execution_id, log };
    if (process.env.BENCH_DEBUG) {
      const { execution } = await ended(execution_id);
      console.error(
        JSON.stringify(execution.metadata.execution_logs.map((l: Json) => [Date.parse(l.at) - Date.parse(execution.created_at), l.message.slice(0, 60)])),
      );
    }
  } else if (step.op === 'encryption') {
    const state = await call('encryption.get', {});
    // The bench's metadata database outlives one run of the bench only; a key set up earlier in this run is kept in a file beside it.
    const keyFile = `${step.dataDir}/bench-recovery-key.json`;
    if (!state.set_up) writeFileSync(keyFile, JSON.stringify(await call('encryption.setup', {})), { mode: 0o600 });
    const setup = JSON.parse(readFileSync(keyFile, 'utf8')) as Json;
    result = { seconds: 0, peak_rss_mb: peakRssMb(), recovery: { identity: setup.recovery_identity, recipient: setup.recovery_recipient } };
  } else if (step.op === 'encrypt-file') {
    // The stage as a backup runs it: 1 MiB pieces already in memory (the compressor's frames), in an app that has
    // encrypted before. The first pass in a fresh process is left out of the time: it loads typage (~0.3 s) and
    // faults in the memory that every later pass reuses.
    const data = readFileSync(step.file);
    const pieces = () =>
      Readable.from(
        (function* () {
          for (let at = 0; at < data.length; at += 1 << 20) yield data.subarray(at, at + (1 << 20));
        })(),
      );
    const pass = async () =>
      pipeline(pieces(), await createAgeEncrypter(step.recipients), new Writable({ highWaterMark: 1 << 20, write: (_c, _e, done) => done() }));
    const cold = performance.now();
    await pass();
    const first = (performance.now() - cold) / 1000;
    const busy = coresBusy();
    const started = performance.now();
    await pass();
    result = { seconds: (performance.now() - started) / 1000, first_s: first, peak_rss_mb: peakRssMb(), cores_busy: busy() };
  } else {
    const calls: Record<string, number[]> = {};
    const timed = async (name: string, channel: string, input: unknown) => {
      const t = performance.now();
      const out = await call(channel, input);
      (calls[name] ??= []).push((performance.now() - t) / 1000);
      return out;
    };
    for (let i = 0; i < step.repeat; i++) {
      // The plain side: the same first page as one raw query on the same connection pool.
      const t = performance.now();
      await core.db.query(`SELECT * FROM backup_executions ORDER BY created_at DESC, id DESC LIMIT 50`);
      (calls['raw-page'] ??= []).push((performance.now() - t) / 1000);
      const first = await timed('activity-first', 'executions.list', { limit: 50 });
      // The page after the 50th row, then one near the end, as "More" reaches them.
      await timed('activity-next', 'executions.list', { limit: 50, before: first.at(-1).id });
      const deep = await core.db.query(`SELECT id FROM backup_executions ORDER BY created_at DESC, id DESC OFFSET 99900 LIMIT 1`);
      await timed('activity-deep', 'executions.list', { limit: 50, before: deep[0].id });
      const backups = await timed('backups-first', 'backups.datasource', { id: step.datasource_id });
      const deepBackup = await core.db.query(
        `SELECT id FROM backup_executions WHERE datasource_id = $1 AND status = 'completed' AND operation = 'backup' ORDER BY created_at DESC, id DESC OFFSET 99000 LIMIT 1`,
        [step.datasource_id],
      );
      await timed('backups-deep', 'backups.datasource', { id: step.datasource_id, before: deepBackup[0]?.id ?? backups.backups.at(-1).id });
      await timed('backups-datasources', 'backups.datasources', {});
    }
    result = { seconds: 0, peak_rss_mb: peakRssMb(), calls: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, median(v)])) };
  }
  if (process.env.BENCH_DEBUG) console.error('memory peaks (MB):', JSON.stringify(peaks));
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await core.close();
}
