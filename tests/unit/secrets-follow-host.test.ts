import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SecretBox } from '../../electron/core/kernel/secrets.js';
import { resolveConfig } from '../../electron/core/services/validate.js';
import { STORAGE_CONFIG } from '../../shared/schemas/storage.js';

describe('an SFTP storage moved to another host', () => {
  it('forgets the saved password and the host key remembered for the old server', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dg-secrets-'));
    try {
      const box = SecretBox.open(dir);
      const saved = { host: 'nas.local', port: 22, username: 'backup', password: 'hunter2', remote_path: '/srv', host_key_fingerprint: 'SHA256:old' };
      const sealed = box.sealConfig(saved);
      // The form sends the config back as it shows it: the fingerprint included, the secret left empty.
      const moved = resolveConfig(box, STORAGE_CONFIG.ssh, 'ssh', { ...saved, password: undefined, host: 'evil.example' }, sealed, 'config');
      assert.equal(moved.config.password, undefined);
      assert.equal(moved.config.host_key_fingerprint, undefined);
      assert.deepEqual(moved.withheld, ['password']);

      const same = resolveConfig(box, STORAGE_CONFIG.ssh, 'ssh', { ...saved, password: undefined, remote_path: '/srv/other' }, sealed, 'config');
      assert.equal(same.config.password, 'hunter2', 'another folder on the same server keeps the password');
      assert.equal(same.config.host_key_fingerprint, 'SHA256:old');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
