// One DataGuardian backup in a process of its own, so the benchmark can read this process's peak RSS.
// Usage: node --import tsx tests/bench/backup-once.ts <pg-json> <storage-dir> <compression> [max_file_size_mb]
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { startCore } from '../../electron/core/app.js';
import type { Json } from '../support/app.js';

const [pgJson, storageDir, compression, maxMb] = process.argv.slice(2);
const pg = JSON.parse(pgJson!) as { host: string; port: number; user: string; password: string; database: string };
const dataDir = mkdtempSync('/tmp/dg-bench-app-');
chmodSync(dataDir, 0o755);
const core = await startCore({ mode: 'headless', dataDir });
const call = async (name: string, input: unknown) => {
  const r = await core.dispatch(name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.data as Json;
};
try {
  const ds = await call('datasources.create', {
    name: 'bench',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, database: pg.database, username: pg.user, password: pg.password },
  });
  const storage = await call('storages.create', { name: 'bench', type: 'local', config: { path: storageDir } });
  const job = await call('jobs.create', {
    name: 'bench',
    datasource_id: ds.id,
    storage_location_id: storage.id,
    schedule_cron: '0 3 * * *',
    backup_options: { compression, ...(compression === 'zstd' ? { compression_level: 3 } : {}), ...(maxMb ? { max_file_size_mb: Number(maxMb) } : {}) },
  });
  const baseline = process.memoryUsage().rss;
  const started = performance.now();
  const { execution_id } = await call('jobs.run', { id: job.id });
  let execution;
  for (;;) {
    execution = await call('executions.get', { id: execution_id });
    if (!['queued', 'running'].includes(execution.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  if (execution.status !== 'completed') throw new Error(`backup ${execution.status}: ${execution.error_message}`);
  process.stdout.write(
    JSON.stringify({
      seconds,
      raw_bytes: execution.size_bytes,
      stored_bytes: execution.compressed_size_bytes,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      baseline_rss_mb: baseline / 1024 / 1024,
    }) + '\n',
  );
} finally {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
}
