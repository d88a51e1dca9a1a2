// `npm run bench`: DataGuardian's backup against the plain command-line tools, on this machine.
// Prints time ratios (target ≤ 1.10) and peak RSS at two database sizes (target: flat).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { startPostgres } from '../harness/index.js';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const SMALL_MB = Math.max(50, Math.round(SIZE_MB / 10));

const pg = await startPostgres();
const here = path.dirname(new URL(import.meta.url).pathname);

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => statSync(f).isFile())
    .reduce((n, f) => n + statSync(f).size, 0);
}

/** A database of about `mb` MB: mixed text and numbers, compressible like real data. */
async function makeDatabase(name: string, mb: number) {
  await pg.createDatabase(name);
  // ~1 KB a row: 1,000 rows per MB.
  await pg.query(
    `CREATE TABLE orders AS SELECT g AS id, now() - (g || ' minutes')::interval AS created_at,
       md5(g::text) AS customer, (random() * 1000)::numeric(10,2) AS total,
       repeat(md5((g % 997)::text), 28) AS notes
     FROM generate_series(1, ${mb * 1000}) g`,
    name,
  );
  await pg.query('VACUUM ANALYZE orders', name);
  const [row] = await pg.query<{ size: string }>(`SELECT pg_database_size('${name}')::text AS size`, name);
  return Number(row!.size);
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

function plain(db: string, compressor: string, out: string): number {
  const env = { ...process.env, PGPASSWORD: pg.password };
  const dump = `${pg.binDir}/pg_dump -h ${pg.host} -p ${pg.port} -U ${pg.user} -Fc -Z0 ${db}`;
  return time(() => execFileSync('bash', ['-o', 'pipefail', '-c', `${dump} | ${compressor} > ${out}`], { env, stdio: 'inherit' }));
}

function dataguardian(db: string, compression: string) {
  const dir = mkdtempSync('/tmp/dg-bench-store-');
  chmodSync(dir, 0o755);
  const args = [
    '--import',
    'tsx',
    path.join(here, 'backup-once.ts'),
    JSON.stringify({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db }),
    dir,
    compression,
    '256',
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' } });
  if (r.status !== 0) throw new Error(`DataGuardian backup failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; stored_bytes: number; peak_rss_mb: number };
  const onDisk = folderBytes(dir);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, onDisk };
}

try {
  console.log(`Preparing databases of ~${SIZE_MB} MB and ~${SMALL_MB} MB on PostgreSQL ${pg.version}...`);
  const bigBytes = await makeDatabase('bench_big', SIZE_MB);
  const smallBytes = await makeDatabase('bench_small', SMALL_MB);
  const tmp = mkdtempSync('/tmp/dg-bench-plain-');
  const rows: string[][] = [['case', 'plain (s)', 'DataGuardian (s)', 'ratio', 'DG peak RSS (MB)']];
  for (const [compression, cli] of [
    ['gzip', 'gzip'],
    ['zstd', 'zstd -3 -q'],
  ] as const) {
    const plainSeconds = plain('bench_big', cli, path.join(tmp, `plain.${compression}`));
    const dg = dataguardian('bench_big', compression);
    rows.push([
      `${(bigBytes / 2 ** 20).toFixed(0)} MB, ${compression}`,
      plainSeconds.toFixed(2),
      dg.seconds.toFixed(2),
      (dg.seconds / plainSeconds).toFixed(3),
      dg.peak_rss_mb.toFixed(0),
    ]);
  }
  const small = dataguardian('bench_small', 'zstd');
  rows.push([`${(smallBytes / 2 ** 20).toFixed(0)} MB, zstd (memory check)`, '-', small.seconds.toFixed(2), '-', small.peak_rss_mb.toFixed(0)]);
  rmSync(tmp, { recursive: true, force: true });
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log('\nratio = DataGuardian time / plain `pg_dump -Fc -Z0 | <compressor> > file` time (target ≤ 1.10).');
  console.log('Peak RSS should be about the same at both sizes: memory does not grow with the backup.');
} finally {
  await pg.stop();
}
