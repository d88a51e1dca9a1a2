// Runs every test file with node's test runner: unit, then integration (real servers), then end-to-end.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const only = process.argv.slice(2);
const suites = only.length ? only : ['unit', 'integration', 'security', 'e2e'];
const files = suites.flatMap((suite) => {
  const dir = path.join('tests', suite);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join(dir, f));
});
if (files.length === 0) {
  console.error('No test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(r.status ?? 1);
