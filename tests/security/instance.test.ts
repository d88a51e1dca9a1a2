// The data folder's lock is a file anything could have left or changed: a crash, an older process whose
// pid came back, a copy from another machine, garbage, a folder or a link in its place. None of them may
// let two instances run on one folder, nor keep a dead one's folder locked forever. And the new route
// that deletes a backup by hand refuses what is not a backup it may delete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../shared/errors.js';
import { lockDataDir } from '../../electron/core/kernel/instance-lock.js';
import { thisInstance } from '../../electron/core/kernel/instance.js';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { runJob } from '../support/backups.js';

let work: string;
let app: AppUnderTest;
let n = 0;

before(async () => {
  work = await tempDir('dg-security-instance-');
});

after(async () => {
  await app?.stop();
  if (work) await removeTempDir(work);
});

function folderWithLock(content: unknown): { dir: string; file: string } {
  const dir = path.join(work, `data-${n++}`);
  mkdirSync(dir);
  const file = path.join(dir, 'instance.lock');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { dir, file };
}

const refusal = (dir: string): AppError => {
  try {
    lockDataDir(dir).release();
  } catch (e) {
    return e as AppError;
  }
  throw new Error('the lock was taken');
};

/** /proc/<pid>/stat's start time, as the lock records it. */
const ticksOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
};

describe('the data folder lock', () => {
  it('garbage, an empty file or a lock of a dead pid is taken over, and released on close', () => {
    for (const content of ['', '{"pid": "1; rm -rf /"}', 'not json at all', { ...thisInstance(), pid: 2 ** 22 + 7, url: null }]) {
      const { dir, file } = folderWithLock(content);
      const lock = lockDataDir(dir);
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid, JSON.stringify(content));
      lock.release();
      assert.throws(() => readFileSync(file), /ENOENT/);
    }
  });

  it('a live process on this machine holds it; the same pid started at another time (reused) does not', async () => {
    const other = spawn('sleep', ['30']);
    try {
      await new Promise((r) => other.once('spawn', r));
      const live = { ...thisInstance(), pid: other.pid!, start_ticks: ticksOf(other.pid!), url: 'http://127.0.0.1:5151' };
      const held = folderWithLock(live);
      const e = refusal(held.dir);
      assert.equal(e.code, 'already_running');
      assert.equal(e.message, `DataGuardian is already running with this data folder (pid ${other.pid}, http://127.0.0.1:5151). Open that, or stop it first.`);
      assert.equal(JSON.parse(readFileSync(held.file, 'utf8')).pid, other.pid, 'the holder’s lock is untouched');

      const reused = folderWithLock({ ...live, start_ticks: live.start_ticks - 1 });
      lockDataDir(reused.dir).release();
    } finally {
      other.kill();
    }
  });

  it('a lock of another machine is never taken over, and says how to free it', () => {
    const { dir, file } = folderWithLock({ ...thisInstance(), machine: 'nas-machine-id', host: 'nas', url: null });
    const e = refusal(dir);
    assert.equal(e.code, 'already_running');
    assert.match(e.message, /\(on nas, pid \d+, the desktop app\)/);
    assert.ok(e.message.includes(`delete ${file}`), e.message);
  });

  it('this process cannot take the lock twice; a folder or a link in its place is refused, not followed', () => {
    const dir = path.join(work, `data-${n++}`);
    mkdirSync(dir);
    const lock = lockDataDir(dir);
    assert.equal(refusal(dir).code, 'already_running');
    lock.release();

    const folder = path.join(work, `data-${n++}`);
    mkdirSync(path.join(folder, 'instance.lock'), { recursive: true });
    assert.match(refusal(folder).message, /is not a file/);
    const linked = path.join(work, `data-${n++}`);
    mkdirSync(linked);
    writeFileSync(path.join(work, 'elsewhere'), '');
    symlinkSync(path.join(work, 'elsewhere'), path.join(linked, 'instance.lock'));
    assert.match(refusal(linked).message, /is not a file/);
    assert.equal(readFileSync(path.join(work, 'elsewhere'), 'utf8'), '', 'the link target was not written');
  });

  it('announcing an address never rewrites a lock another process took since', () => {
    const dir = path.join(work, `data-${n++}`);
    mkdirSync(dir);
    const lock = lockDataDir(dir);
    const theirs = JSON.stringify({ ...thisInstance(), pid: 4242, started_at: '2026-01-01T00:00:00.000Z', url: null });
    writeFileSync(path.join(dir, 'instance.lock'), theirs);
    lock.announce('http://127.0.0.1:9999');
    lock.release();
    assert.equal(readFileSync(path.join(dir, 'instance.lock'), 'utf8'), theirs);
  });
});

describe('deleting a backup by hand', () => {
  it('refuses what is not a backup it may delete: a bad id, an unknown one, a restore, a backup already deleted', async () => {
    app = await startApp();
    const source = path.join(work, 'source');
    mkdirSync(source);
    writeFileSync(path.join(source, 'a.txt'), 'a');
    const storage = (await app.rpc('storages.create', { name: 'Disk', type: 'local', config: { path: path.join(work, 'storage') } })).body.data;
    const ds = (await app.rpc('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: source } })).body.data;
    const backup = await runJob(app, { name: 'Docs', datasource_id: ds.id, storage_location_id: storage.id });

    for (const id of ['not-a-uuid', '..%2F..%2Fetc', `${backup.id}'--`]) {
      const r = await app.http('DELETE', `/api/backups/${id}`);
      assert.equal(r.status, 400, `${id}: ${r.text}`);
    }
    assert.equal((await app.http('DELETE', '/api/backups/00000000-0000-4000-8000-000000000000')).status, 404);
    const anonymous = await fetch(`${app.url}/api/backups/${backup.id}`, { method: 'DELETE' });
    assert.equal(anonymous.status, 401);

    const restore = (await app.rpc('backups.restore', { id: backup.id, target_path: path.join(work, 'restored'), safety_backup: false })).body.data;
    const notABackup = await app.http('DELETE', `/api/backups/${restore.execution_id}`);
    assert.equal(notABackup.status, 400, notABackup.text);

    for (;;) {
      const r = await app.http('DELETE', `/api/backups/${backup.id}`);
      if (r.status === 409) {
        // The restore still reads it: refused as busy, naming that run.
        assert.equal(r.body.error.code, 'busy');
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      assert.equal(r.status, 202, r.text);
      break;
    }
    for (let i = 0; ; i++) {
      const again = await app.http('DELETE', `/api/backups/${backup.id}`);
      if (again.status === 404) {
        assert.match(again.body.error.message, /was deleted on/);
        break;
      }
      assert.ok(i < 100, `still ${again.status}: ${again.text}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  });
});
