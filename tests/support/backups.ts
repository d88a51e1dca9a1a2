import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppUnderTest, Json } from './app.js';

/** Polls until the execution has ended; returns its details. */
export async function waitForExecution(app: AppUnderTest, id: string, timeoutMs = 120_000): Promise<Json> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await app.rpc('executions.get', { id });
    if (!r.body.ok) throw new Error(r.text);
    if (!['queued', 'running'].includes(r.body.data.status)) return r.body.data;
    if (Date.now() > until) throw new Error(`execution ${id} still ${r.body.data.status}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

/** Creates (or reuses) a job and runs it to its end. */
export async function runJob(app: AppUnderTest, job: Record<string, unknown>): Promise<Json> {
  const created = await app.rpc('jobs.create', { schedule_cron: '0 3 * * *', ...job });
  if (!created.body.ok) throw new Error(created.text);
  const run = await app.rpc('jobs.run', { id: created.body.data.id });
  if (!run.body.ok) throw new Error(run.text);
  return waitForExecution(app, run.body.data.execution_id);
}

export const sh = (cmd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync('bash', ['-o', 'pipefail', '-c', cmd], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });

const DECOMPRESS: Record<string, string> = { gzip: 'gzip -dc', zstd: 'zstd -dcq', lz4: 'lz4 -dcq', none: 'cat' };

/**
 * What a user does by hand, with no DataGuardian code (seed's rollback guide): check the
 * manifest's SHA-256 of every part and of the joined file with sha256sum, cat the parts, decompress
 * with the standard CLI. Returns the path of the plain artifact.
 */
export function recoverByHand(folder: string, outDir: string): { file: string; manifest: Json } {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
  const files = readdirSync(folder)
    .filter((f) => f !== 'manifest.json' && !f.startsWith('toc.json'))
    .sort();
  if (files.join() !== manifest.chunks.map((c: { file: string }) => c.file).join()) throw new Error(`parts on disk ${files} differ from the manifest`);
  for (const chunk of manifest.chunks) {
    const sum = sh(`sha256sum ${JSON.stringify(path.join(folder, chunk.file))}`).split(' ')[0];
    if (`sha256:${sum}` !== chunk.checksum) throw new Error(`${chunk.file}: sha256sum ${sum} differs from the manifest`);
  }
  const joined = path.join(outDir, manifest.artifact);
  sh(`cat ${files.map((f) => JSON.stringify(path.join(folder, f))).join(' ')} > ${JSON.stringify(joined)}`);
  const total = sh(`sha256sum ${JSON.stringify(joined)}`).split(' ')[0];
  if (`sha256:${total}` !== manifest.checksum) throw new Error('the joined file does not match the manifest checksum');
  const plain = path.join(outDir, `plain-${manifest.execution_id}`);
  sh(`${DECOMPRESS[manifest.compression]} ${JSON.stringify(joined)} > ${JSON.stringify(plain)}`);
  return { file: plain, manifest };
}
