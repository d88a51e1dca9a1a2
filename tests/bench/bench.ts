// `npm run bench`: DataGuardian against the plain command-line tools, on this machine, in the same run.
// Every row is a ratio: DataGuardian's time over the plain tool's, each the median of BENCH_REPEAT runs
// done back to back (the machine is shared, so absolute times are noisy; ratios much less).
// BENCH_SIZE_MB (default 1024) sizes the big database; BENCH_JSON=<file> also writes the rows as JSON;
// BENCH_CASES=a,b runs only those cases; BENCH_DEBUG=1 prints each step's log timeline and memory (where a run's
// time and memory go); BENCH_PROFILE=<dir> writes each step's CPU profile.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { startPostgres } from '../harness/index.js';
import { coresBusy } from './cpu.js';
import type { StepResult, Task } from './run-once.js';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const SMALL_MB = 100;
const REPEAT = Number(process.env.BENCH_REPEAT ?? (SIZE_MB > 2048 ? 1 : 3));
const CATALOG_ROWS = 100_000;
const TABLES = 8;
const OVERHEAD_GOAL_S = 0.15;
// BENCH_CASES=overhead,catalog-page runs only those cases (and what they need).
const CASES = process.env.BENCH_CASES?.split(',').map((c) => c.trim());
const want = (...names: string[]) => !CASES || names.some((n) => CASES.includes(n));

const here = path.dirname(new URL(import.meta.url).pathname);
const started = performance.now();
// Each step runs the core as it ships: bundled by esbuild like scripts/build.mjs, run by plain node (tsx alone
// adds ~35 MB and ~100 MB once it has compiled the core). Beside node_modules, so the external packages resolve.
const runOnce = path.resolve(here, '../../node_modules/.cache/dg-bench/run-once.mjs');
await build({
  entryPoints: [path.join(here, 'run-once.ts')],
  outfile: runOnce,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
const pg = await startPostgres();
const work = mkdtempSync('/tmp/dg-bench-');
// The app's data dir and the storages are read by the embedded tools as other users when run as root.
chmodSync(work, 0o755);
const env = { ...process.env, PGPASSWORD: pg.password };
const pgArgs = `-h ${pg.host} -p ${pg.port} -U ${pg.user}`;

interface Row {
  case: string;
  plain_s: number | null;
  dataguardian_s: number | null;
  ratio: number | null;
  peak_rss_mb: number | null;
  /** single-file-restore: the bytes the take-out read from storage (the largest of its runs). */
  bytes_read?: number;
  /** Printed, not in BENCH_JSON: the started app's memory before the work (the peak is this plus the work's). */
  idle_rss_mb: number | null;
  /** Printed, not in BENCH_JSON: the cores busy (plain / DataGuardian), all processes of the machine together. */
  cores: string;
  note: string;
}
const rows: Row[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const say = (m: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);

/** One side of a row: each run's time, its peak and idle memory, and how many cores the whole machine kept busy meanwhile. */
class Side {
  seconds: number[] = [];
  rss: number[] = [];
  idle: number[] = [];
  cores: number[] = [];
}

function sh(script: string, side?: Side): number {
  const busy = coresBusy();
  const t = performance.now();
  execFileSync('bash', ['-o', 'pipefail', '-c', script], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const seconds = (performance.now() - t) / 1000;
  side?.seconds.push(seconds);
  side?.cores.push(busy());
  return seconds;
}

// BENCH_PROFILE=<dir>: each step writes a V8 CPU profile there (open it in Chrome's DevTools).
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];

/** One step of the app in a child process (see run-once.ts); its own time (not the process's start) goes to `side`. */
function app(step: Task, side?: Side): StepResult {
  const full = { ...step, dataDir, databaseUrl: pg.url('dg_bench_meta') };
  const r = spawnSync(process.execPath, [...profile, runOnce, JSON.stringify(full)], {
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'test' },
    maxBuffer: 64 * 2 ** 20,
  });
  if (process.env.BENCH_DEBUG) process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`DataGuardian ${step.op} failed:\n${r.stderr.slice(-4000)}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as StepResult;
  if (side) {
    side.seconds.push(result.seconds);
    side.rss.push(result.peak_rss_mb);
    if (result.idle_rss_mb) side.idle.push(result.idle_rss_mb);
    if (result.cores_busy !== undefined) side.cores.push(result.cores_busy);
  }
  return result;
}

/** A database of about `mb` MB in `tables` tables: mixed text and numbers, compressible like real data. */
async function makeDatabase(name: string, mb: number, tables: number) {
  await pg.createDatabase(name);
  const perTable = Math.ceil((mb * 1000) / tables); // ~1 KB a row
  // Two tables at a time: this machine has two cores.
  for (let i = 0; i < tables; i += 2) {
    await Promise.all(
      [i, i + 1]
        .filter((t) => t < tables)
        .map((t) =>
          pg.query(
            `CREATE TABLE orders_${t} AS SELECT g AS id, now() - (g || ' minutes')::interval AS created_at,
               md5(g::text) AS customer, (random() * 1000)::numeric(10,2) AS total,
               repeat(md5(((g + ${t}) % 997)::text), 28) AS notes
             FROM generate_series(1, ${perTable}) g`,
            name,
          ),
        ),
    );
  }
  await pg.query('VACUUM ANALYZE', name);
  const [row] = await pg.query<{ size: string }>(`SELECT pg_database_size(current_database())::text AS size`, name);
  return Number(row!.size);
}

/** A folder like the issue's: one big file and 2,000 small ones, text that compresses about 2:1. */
function makeFolder(dir: string, bigMb: number) {
  mkdirSync(path.join(dir, 'small'), { recursive: true });
  const chunk = () => Buffer.concat([Buffer.from(randomBytes(384 * 1024).toString('base64')), Buffer.from('INFO request served in 12 ms\n'.repeat(18_000))]);
  const big = openSync(path.join(dir, 'big.log'), 'w');
  for (let i = 0; i < bigMb; i++) writeSync(big, chunk().subarray(0, 2 ** 20));
  closeSync(big);
  for (let i = 0; i < 2000; i++) writeFileSync(path.join(dir, 'small', `note-${i}.txt`), chunk().subarray(0, 4500 + (i % 7) * 100));
}

/**
 * A folder like a node_modules tree: 36,000 small files (200 B to 12 KB, about 6 KB on average, text that compresses
 * about 4:1) in 1,200 folders three deep. The same bytes in every run: sizes and contents come from the file's number.
 */
const MANY_FILES = 36_000;
function makeManyFolder(dir: string) {
  const text = Buffer.from(
    Array.from({ length: 2000 }, (_, i) => `export const value${i} = require('./lib/part-${(i * 7919) % 1000}.js')(${i * 31});\n`).join(''),
  );
  for (let i = 0; i < MANY_FILES; i++) {
    const folder = path.join(dir, `pkg-${i % 40}`, `lib-${Math.floor(i / 40) % 30}`);
    if (i < 1200) mkdirSync(folder, { recursive: true });
    const size = 200 + ((i * 7919) % 11800);
    const at = (i * 104_729) % (text.length - size);
    writeFileSync(path.join(folder, `file-${i}.js`), text.subarray(at, at + size));
  }
}

/** A folder of 512 MiB that does not compress (two halves of random bytes) with one 10 KB file between them. */
const ONE_FILE = 'middle/deep/inside/one-file.txt';
function makeBigFolder(dir: string) {
  mkdirSync(path.join(dir, path.dirname(ONE_FILE)), { recursive: true });
  for (const name of ['a-half.bin', 'z-half.bin']) {
    const fd = openSync(path.join(dir, name), 'w');
    for (let i = 0; i < 256; i++) writeSync(fd, randomBytes(2 ** 20));
    closeSync(fd);
  }
  writeFileSync(path.join(dir, ONE_FILE), Buffer.from('one line of the file the user deleted by mistake\n'.repeat(205)));
}

/** "2.3 MB read from …" in a take-out's log: the bytes it read from storage (to the precision the log gives). */
function bytesReadOf(log: string[]): number | null {
  const line = log.map((l) => /^([\d.]+) (B|KB|MB|GB) read from /.exec(l)).find(Boolean);
  return line ? Math.round(Number(line[1]) * 1024 ** ['B', 'KB', 'MB', 'GB'].indexOf(line[2]!)) : null;
}

const pgDatasource = (database: string) => ({
  type: 'postgres',
  connection_config: { host: pg.host, port: pg.port, database, username: pg.user, password: pg.password },
});

/** A fresh storage folder per run: nothing of a run stays to fill the disk. */
function storage(): string {
  const dir = mkdtempSync(path.join(work, 'store-'));
  chmodSync(dir, 0o755);
  return dir;
}

let restoreCount = 0;
const dataDir = path.join(work, 'app');
mkdirSync(dataDir, { mode: 0o755 });

function record(name: string, plain: Side, dg: Side, note: string) {
  const p = plain.seconds.length ? median(plain.seconds) : null;
  const d = dg.seconds.length ? median(dg.seconds) : null;
  const row: Row = {
    case: name,
    plain_s: p,
    dataguardian_s: d,
    ratio: p && d ? d / p : null,
    peak_rss_mb: dg.rss.length ? Math.max(...dg.rss) : null,
    idle_rss_mb: dg.idle.length ? Math.max(...dg.idle) : null,
    cores: [plain, dg].map((side) => (side.cores.length ? median(side.cores).toFixed(2) : '-')).join(' / '),
    note,
  };
  rows.push(row);
  say(
    `${name}: plain ${plain.seconds.map((x) => x.toFixed(2)).join(', ') || '-'} s; DataGuardian ${dg.seconds.map((x) => x.toFixed(3)).join(', ') || '-'} s; peak RSS ${row.peak_rss_mb?.toFixed(0) ?? '-'} MB (idle app ${row.idle_rss_mb?.toFixed(0) ?? '-'}); cores busy ${row.cores}`,
  );
  return row;
}

/** Backups of `db` with the plain pipe and with DataGuardian, alternating; answers the last DataGuardian backup. */
function backups(name: string, db: string, compression: string, cli: string, note: string, options: Record<string, unknown> = {}) {
  const plain = new Side();
  const dg = new Side();
  const plainFile = path.join(work, `plain.dump.${compression}${options.encryption === 'age' ? '.age' : ''}`);
  let last: StepResult | undefined;
  let lastStore = '';
  for (let i = 0; i < REPEAT; i++) {
    rmSync(plainFile, { force: true });
    sh(`${pg.binDir}/pg_dump ${pgArgs} -Fc -Z0 ${db} | ${cli} > ${plainFile}`, plain);
    if (lastStore) rmSync(lastStore, { recursive: true, force: true });
    lastStore = storage();
    last = app(
      {
        op: 'backup',
        datasource: pgDatasource(db),
        storagePath: lastStore,
        backup_options: { compression, ...(compression === 'zstd' ? { compression_level: 3 } : {}), ...options },
      },
      dg,
    );
  }
  return { row: record(name, plain, dg, note), last: last!, plainFile };
}

/**
 * Restores: by default `zstd -d` then `pg_restore -1` of the plain file (`plainRestore` gives another plain side), against
 * DataGuardian's restore into a new database.
 */
function restores(name: string, plainFile: string, executionId: string, note: string, plainRestore?: (db: string) => string) {
  const plain = new Side();
  const dg = new Side();
  const staged = path.join(work, 'plain-restore.dump');
  for (let i = 0; i < REPEAT; i++) {
    const db = `bench_restore_${restoreCount++}`;
    sh(
      plainRestore?.(db) ??
        `zstd -d -q -f ${plainFile} -o ${staged} && ${pg.binDir}/createdb ${pgArgs} ${db} && ${pg.binDir}/pg_restore ${pgArgs} -1 -d ${db} ${staged}`,
      plain,
    );
    rmSync(staged, { force: true });
    sh(`${pg.binDir}/dropdb ${pgArgs} ${db}`);
    const target = `bench_restore_${restoreCount++}`;
    app({ op: 'restore', execution_id: executionId, target_database: target }, dg);
    sh(`${pg.binDir}/dropdb ${pgArgs} --if-exists ${target}`);
  }
  return record(name, plain, dg, note);
}

try {
  say(`PostgreSQL ${pg.version}; big database ~${SIZE_MB} MB in ${TABLES} tables, small ~${SMALL_MB} MB; ${REPEAT} run(s) of each, medians`);
  await pg.createDatabase('dg_bench_meta');
  const bigBytes = want('backup-gzip', 'backup-zstd', 'backup-lz4', 'restore', 'parallel', 'memory-large', 'backup-zstd-age', 'restore-age')
    ? await makeDatabase('bench_big', SIZE_MB, TABLES)
    : 0;
  const smallBytes = want('overhead', 'memory-small', 'catalog-page') ? await makeDatabase('bench_small', SMALL_MB, 1) : 0;
  const big = `${(bigBytes / 2 ** 20).toFixed(0)} MB`;
  say(`databases ready: ${big} and ${(smallBytes / 2 ** 20).toFixed(0)} MB`);

  // Fixed overhead: from Run now to pg_dump's spawn, on the small database. Each process runs the job
  // twice: the first run of a fresh process (modules, connections and tools still cold), then the same
  // job again, as in an app that has been up a while. The row is the second; the note gives the first.
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < (want('overhead') ? Math.max(REPEAT, 3) : 0); i++) {
    const r = app({
      op: 'backup',
      datasource: pgDatasource('bench_small'),
      storagePath: storage(),
      backup_options: { compression: 'zstd', compression_level: 3 },
      runs: 2,
    });
    if (r.to_dump_start_s?.length !== 2) throw new Error('The backup logged no "Running <tool>" line: the overhead cannot be read');
    cold.push(r.to_dump_start_s[0]!);
    warm.push(r.to_dump_start_s[1]!);
  }
  if (want('overhead')) {
    const o = median(warm);
    rows.push({
      case: 'overhead',
      plain_s: null,
      dataguardian_s: o,
      ratio: o / OVERHEAD_GOAL_S,
      peak_rss_mb: null,
      idle_rss_mb: null,
      cores: '-',
      note: `Run now → pg_dump spawned; ratio to the 150 ms goal (first run of a fresh process: ${(median(cold) * 1000).toFixed(0)} ms)`,
    });
    say(`overhead: first run ${cold.map((x) => (x * 1000).toFixed(0)).join(', ')} ms; next run ${warm.map((x) => (x * 1000).toFixed(0)).join(', ')} ms`);
  }

  if (want('backup-gzip')) backups('backup-gzip', 'bench_big', 'gzip', 'gzip', `${big}, pg_dump -Fc -Z0 | gzip`);
  const zstd = want('backup-zstd', 'restore', 'memory-large')
    ? backups('backup-zstd', 'bench_big', 'zstd', 'zstd -3 -q', `${big}, pg_dump -Fc -Z0 | zstd -3`)
    : null;
  if (want('backup-lz4')) backups('backup-lz4', 'bench_big', 'lz4', 'lz4 -q', `${big}, pg_dump -Fc -Z0 | lz4`);
  for (const c of ['gzip', 'lz4']) rmSync(path.join(work, `plain.dump.${c}`), { force: true });
  const restore =
    zstd && want('restore', 'memory-large')
      ? restores('restore', zstd.plainFile, zstd.last.execution_id!, `${big}, zstd -d then pg_restore -1 into a new database`)
      : null;

  // Encrypted: DataGuardian (zstd, then age to its key and the recovery key) against `zstd -3 | age -r <recovery key>`, and back.
  if (want('backup-zstd-age', 'restore-age', 'age-stage')) {
    const { recovery } = app({ op: 'encryption' });
    const keyFile = path.join(work, 'recovery-key.txt');
    writeFileSync(keyFile, `${recovery!.identity}\n`, { mode: 0o600 });
    const aged = want('backup-zstd-age', 'restore-age')
      ? backups(
          'backup-zstd-age',
          'bench_big',
          'zstd',
          `zstd -3 -q | age -r ${recovery!.recipient}`,
          `${big}, pg_dump -Fc -Z0 | zstd -3 | age -r <recipient> (goal ≤ 1.10)`,
          { encryption: 'age' },
        )
      : null;
    if (aged && want('restore-age'))
      restores(
        'restore-age',
        aged.plainFile,
        aged.last.execution_id!,
        `${big}, age -d -i key | zstd -d | pg_restore -1 into a new database (goal ≤ 1.10)`,
        (db) => `${pg.binDir}/createdb ${pgArgs} ${db} && age -d -i ${keyFile} ${aged.plainFile} | zstd -d -q | ${pg.binDir}/pg_restore ${pgArgs} -1 -d ${db}`,
      );
    if (want('age-stage')) {
      // The encryption stage alone on the same bytes, both sides from the page cache: 256 MB that do not compress (as a compressed
      // dump is), not the dump itself, which zstd shrinks to a few MB here.
      const stage = path.join(work, 'stage.bin');
      sh(`head -c ${256 * 2 ** 20} /dev/urandom > ${stage} && cat ${stage} > /dev/null`);
      const size = 256 * 2 ** 20;
      const plain = new Side();
      const dg = new Side();
      const firsts: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        sh(`age -r ${recovery!.recipient} < ${stage} > /dev/null`, plain);
        firsts.push(app({ op: 'encrypt-file', file: stage, recipients: [recovery!.recipient] }, dg).first_s!);
      }
      const mbps = (s: Side) => (size / 2 ** 20 / median(s.seconds)).toFixed(0);
      say(`age-stage: first pass in a fresh process ${firsts.map((f) => f.toFixed(2)).join(', ')} s (typage loaded, memory faulted in)`);
      record(
        'age-stage',
        plain,
        dg,
        `age encryption of 256 MB (incompressible, as compressed data is): age CLI ${mbps(plain)} MB/s, DataGuardian ${mbps(dg)} MB/s (goal ≤ 1.0)`,
      );
      rmSync(stage, { force: true });
    }
    if (aged) rmSync(aged.plainFile, { force: true });
  }

  // parallel_jobs 4 against 1, both DataGuardian: plain_s is the one-job time.
  const one = new Side();
  const four = new Side();
  for (let i = 0; i < (want('parallel') ? REPEAT : 0); i++) {
    for (const [jobs, into] of [
      [1, one],
      [4, four],
    ] as const) {
      const dir = storage();
      app(
        {
          op: 'backup',
          datasource: pgDatasource('bench_big'),
          storagePath: dir,
          backup_options: { compression: 'zstd', compression_level: 3, parallel_jobs: jobs },
        },
        into,
      );
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (want('parallel')) record('parallel', one, four, `${big} in ${TABLES} tables, zstd: parallel_jobs 4 against 1 (goal ≤ 0.67)`);

  // Folders: a warm page cache for both sides (one tar before timing).
  const folder = path.join(work, 'folder');
  if (want('folder-none', 'folder-zstd', 'folder-lz4')) {
    makeFolder(folder, 200);
    sh(`tar -cf - -C ${folder} . > /dev/null`);
  }
  const folderDatasource = { type: 'files', connection_config: { source_path: folder } };
  for (const [compression, cli] of [
    ['none', ''],
    ['zstd', ' | zstd -3 -q'],
    ['lz4', ' | lz4 -q'],
  ] as const) {
    if (!want(`folder-${compression}`)) continue;
    const plain = new Side();
    const dg = new Side();
    for (let i = 0; i < REPEAT; i++) {
      sh(`tar -cf - -C ${folder} .${cli} > ${work}/plain.tar`, plain);
      const dir = storage();
      app(
        {
          op: 'backup',
          datasource: folderDatasource,
          storagePath: dir,
          backup_options: { compression, ...(compression === 'zstd' ? { compression_level: 3 } : {}) },
        },
        dg,
      );
      rmSync(dir, { recursive: true, force: true });
    }
    record(`folder-${compression}`, plain, dg, `209 MB folder (one 200 MB file, 2,000 small): tar -cf -${cli}`);
  }
  rmSync(`${work}/plain.tar`, { force: true });

  // Many small files: backup and whole restore against tar and zstd, the same folder on both sides, warm page cache.
  if (want('folder-many-backup', 'folder-many-restore')) {
    const many = path.join(work, 'many');
    makeManyFolder(many);
    sh(`tar -cf - -C ${many} . > /dev/null`);
    const plainFile = `${work}/plain-many.tar.zst`;
    const plain = new Side();
    const dg = new Side();
    let last: StepResult | undefined;
    let lastStore = '';
    for (let i = 0; i < REPEAT; i++) {
      sh(`tar -cf - -C ${many} . | zstd -3 -q > ${plainFile}`, plain);
      if (lastStore) rmSync(lastStore, { recursive: true, force: true });
      lastStore = storage();
      last = app(
        {
          op: 'backup',
          datasource: { type: 'files', connection_config: { source_path: many } },
          storagePath: lastStore,
          backup_options: { compression: 'zstd', compression_level: 3 },
        },
        dg,
      );
    }
    const note = `${MANY_FILES.toLocaleString('en')} files of ~6 KB in 1,200 folders`;
    if (want('folder-many-backup')) record('folder-many-backup', plain, dg, `${note}: tar -cf - | zstd -3 (goal ≤ 1.3)`);
    if (want('folder-many-restore')) {
      const plainOut = new Side();
      const dgOut = new Side();
      const out = path.join(work, 'many-restored');
      // Each side starts with no dirty pages (sync, untimed): the files the run before wrote, or deleted, are otherwise
      // still being written back, and the next side pays for them (one side 3 s, the next 50 s on this machine).
      for (let i = 0; i < REPEAT; i++) {
        rmSync(out, { recursive: true, force: true });
        sh('sync');
        sh(`mkdir ${out} && zstd -d -q -c ${plainFile} | tar -xf - -C ${out}`, plainOut);
        rmSync(out, { recursive: true, force: true });
        sh('sync');
        app({ op: 'restore', execution_id: last!.execution_id!, target_path: out }, dgOut);
      }
      rmSync(out, { recursive: true, force: true });
      record('folder-many-restore', plainOut, dgOut, `${note}: zstd -d | tar -x into a new folder (goal ≤ 1.5)`);
    }
    rmSync(plainFile, { force: true });
    rmSync(lastStore, { recursive: true, force: true });
    rmSync(many, { recursive: true, force: true });
  }

  // One file out of a big folder backup: its seconds against the 1 s goal, and the bytes read from storage (goal < 10 MB).
  if (want('single-file-restore')) {
    const bigFolder = path.join(work, 'big-folder');
    makeBigFolder(bigFolder);
    const store = storage();
    const backup = app({
      op: 'backup',
      datasource: { type: 'files', connection_config: { source_path: bigFolder } },
      storagePath: store,
      backup_options: { compression: 'zstd', compression_level: 3 },
    });
    const dg = new Side();
    const read: number[] = [];
    const out = path.join(work, 'one-file-restored');
    for (let i = 0; i < REPEAT; i++) {
      rmSync(out, { recursive: true, force: true });
      const r = app({ op: 'restore', execution_id: backup.execution_id!, target_path: out, paths: [ONE_FILE] }, dg);
      const n = bytesReadOf(r.log ?? []);
      if (n === null) throw new Error(`The take-out logged no "… read from" line:\n${r.log?.join('\n')}`);
      read.push(n);
    }
    const row = record('single-file-restore', new Side(), dg, `one 10 KB file out of a 512 MiB folder backup; ratio to the 1 s goal; bytes read goal < 10 MB`);
    row.ratio = row.dataguardian_s;
    row.bytes_read = Math.max(...read);
    say(`single-file-restore: bytes read from storage ${read.join(', ')}`);
    rmSync(out, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
    rmSync(bigFolder, { recursive: true, force: true });
  }

  // Peak memory: a backup and a restore of the small database; the large one is the big backup-zstd and restore above.
  if (want('memory-small')) {
    const small = backups('memory-small', 'bench_small', 'zstd', 'zstd -3 -q', `${SMALL_MB} MB, zstd backup + restore; goal ≤ 120 MB`);
    const smallRestore = restores('memory-small-restore', small.plainFile, small.last.execution_id!, '');
    rows.pop();
    small.row.peak_rss_mb = Math.max(small.row.peak_rss_mb!, smallRestore.peak_rss_mb!);
    rmSync(small.plainFile, { force: true });
  }
  if (zstd && restore && want('memory-large'))
    rows.push({
      ...zstd.row,
      case: 'memory-large',
      peak_rss_mb: Math.max(zstd.row.peak_rss_mb!, restore.peak_rss_mb!),
      note: `${big}, zstd backup + restore; goal ≤ 120 MB`,
    });
  if (zstd) rmSync(zstd.plainFile, { force: true });

  // The catalog: 100,000 executions (90% completed backups, each with a part and a copy) on one datasource.
  if (want('catalog-page')) {
    const meta = 'dg_bench_meta';
    // On the datasource and storage of a real backup (one is made if no case above made one).
    const [catalogMade] = await pg.query<{ made: boolean }>(`SELECT to_regclass('backup_executions') IS NOT NULL AS made`, meta);
    if (!catalogMade!.made || !(await pg.query(`SELECT 1 FROM backup_executions WHERE status = 'completed'`, meta)).length)
      app({ op: 'backup', datasource: pgDatasource('bench_small'), storagePath: storage(), backup_options: { compression: 'zstd' } });
    const [ids] = await pg.query<{ datasource_id: string; storage_location_id: string }>(
      `SELECT datasource_id, storage_location_id FROM backup_executions WHERE status = 'completed' LIMIT 1`,
      meta,
    );
    await pg.query(
      `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, finished_at, duration_seconds,
         size_bytes, compressed_size_bytes, backup_path, metadata, created_at)
       SELECT NULL, $1, $2, 'backup', CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END::execution_status, t, t + interval '5 s', 5,
         1000000, 100000, 'catalog/' || g,
         jsonb_build_object('operation', 'backup', 'job_name', 'catalog', 'datasource_name', 'catalog', 'datasource_type', 'postgres',
                            'compression', 'zstd', 'artifact', 'backup.dump.zst', 'execution_logs', '[]'::jsonb),
         t
       FROM generate_series(1, ${CATALOG_ROWS}) g, LATERAL (SELECT now() - g * interval '1 minute' AS t) x`,
      meta,
      [ids!.datasource_id, ids!.storage_location_id],
    );
    await pg.query(
      `INSERT INTO backup_chunks (execution_id, chunk_number, file_path, size_bytes, checksum)
       SELECT id, 1, backup_path || '/backup.dump.zst', 100000, repeat('0', 64) FROM backup_executions WHERE backup_path LIKE 'catalog/%' AND status = 'completed'`,
      meta,
    );
    await pg.query(
      `INSERT INTO backup_copies (execution_id, storage_location_id, status, backup_path)
       SELECT id, storage_location_id, 'completed', backup_path FROM backup_executions WHERE backup_path LIKE 'catalog/%' AND status = 'completed'`,
      meta,
    );
    await pg.query('VACUUM ANALYZE', meta);
    const catalog = app({ op: 'catalog', datasource_id: ids!.datasource_id, repeat: 5 });
    // The plain side is the same first page as one raw SQL query, timed in the same process.
    const { 'raw-page': rawPage, ...pages } = catalog.calls!;
    const slowest = Math.max(...Object.values(pages));
    say(`catalog calls (median s): ${JSON.stringify(catalog.calls)}`);
    rows.push({
      case: 'catalog-page',
      plain_s: rawPage!,
      dataguardian_s: slowest,
      ratio: slowest / rawPage!,
      peak_rss_mb: null,
      idle_rss_mb: null,
      cores: '-',
      note: `slowest of Activity (first, next, deep page), Backups (summary, first and deep page) at ${CATALOG_ROWS.toLocaleString('en')} executions; goal < 0.1 s`,
    });
  }

  const table = [
    ['case', 'plain (s)', 'DataGuardian (s)', 'ratio', 'peak RSS (MB)', 'idle app (MB)', 'cores busy', 'what'],
    ...rows.map((r) => [
      r.case,
      r.plain_s?.toFixed(3) ?? '-',
      r.dataguardian_s?.toFixed(3) ?? '-',
      r.ratio?.toFixed(2) ?? '-',
      r.peak_rss_mb?.toFixed(0) ?? '-',
      r.idle_rss_mb?.toFixed(0) ?? '-',
      r.cores,
      r.note,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  console.log('');
  for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(
    `\nratio = DataGuardian / plain tool, medians of ${REPEAT} back-to-back runs (goals: backup ≤ 1.0, restore ≤ 1.05, folders and encrypted ≤ 1.1, age stage ≤ 1.0).`,
  );
  console.log(`peak RSS = the idle app (started, before the work) + what the work needed; cores busy = plain / DataGuardian, every process
of the machine (the database server too), out of ${cpus().length}: a side near ${cpus().length}.00 is bound by the CPU.`);
  console.log(`Finished in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  if (process.env.BENCH_JSON)
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify(
        rows.map(({ note: _note, idle_rss_mb: _idle, cores: _cores, ...r }) => r),
        null,
        2,
      ) + '\n',
    );
} finally {
  await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
