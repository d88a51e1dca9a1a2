// The log names datasources, hosts and folders: only the user running the app may read it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { logger, setLogDirectory } from '../../electron/core/kernel/log.js';
import { removeTempDir, tempDir } from '../harness/index.js';

let work: string;
let umask: number;

before(async () => {
  work = await tempDir('dg-security-log-');
  // The most permissive umask: the modes must come from the code, not from the environment.
  umask = process.umask(0);
});

after(async () => {
  process.umask(umask);
  if (work) await removeTempDir(work);
});

const modeOf = (p: string) => statSync(p).mode & 0o777;

it('the log folder is 0700 and the log file 0600 once the core has written a line', () => {
  const dataDir = path.join(work, 'fresh');
  mkdirSync(dataDir);
  setLogDirectory(dataDir);
  logger.info('a line for the permission test');
  const file = path.join(dataDir, 'logs', 'dataguardian.log');
  assert.match(readFileSync(file, 'utf8'), /a line for the permission test/);
  assert.equal(modeOf(path.join(dataDir, 'logs')), 0o700);
  assert.equal(modeOf(file), 0o600);
});

it('a log folder and file left readable by an older version are closed up', () => {
  const dataDir = path.join(work, 'older');
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
  const file = path.join(dataDir, 'logs', 'dataguardian.log');
  writeFileSync(file, 'old line\n');
  chmodSync(file, 0o644);
  setLogDirectory(dataDir);
  logger.info('a second line');
  assert.ok(existsSync(file));
  assert.equal(modeOf(path.join(dataDir, 'logs')), 0o700);
  assert.equal(modeOf(file), 0o600);
});
