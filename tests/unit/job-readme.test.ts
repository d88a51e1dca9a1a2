// The README.txt in each job's folder on a storage: the steps a person follows by hand, in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobReadme } from '../../electron/core/backup/readme.js';

const steps = (artifact: string, compression: 'zstd' | 'none') =>
  jobReadme({ jobId: 'j', jobName: 'Shop', datasourceName: 'Shop', datasourceType: 'postgres', artifact, compression })
    .split('\n')
    .filter((l) => /^ {2}\d+\. /.test(l))
    .map((l) => l.replace(/^ {2}\d+\. /, '').split('  ')[0]);

describe('the job folder README', () => {
  it('an encrypted backup: join, check, decrypt with the recovery key, decompress, restore', () => {
    assert.deepEqual(steps('backup.dump.zst.age', 'zstd'), [
      'cat backup.dump.zst.age.part-* > backup.dump.zst.age',
      'sha256sum backup.dump.zst.age',
      'age -d -i dataguardian-recovery-key.txt -o backup.dump.zst backup.dump.zst.age',
      'zstd -d backup.dump.zst',
      'createdb newdb && pg_restore --no-owner -d newdb backup.dump',
    ]);
  });

  it('a plain one has no decryption step', () => {
    assert.deepEqual(steps('backup.dump', 'none'), [
      'cat backup.dump.part-* > backup.dump',
      'sha256sum backup.dump',
      'createdb newdb && pg_restore --no-owner -d newdb backup.dump',
    ]);
  });
});
