// Hostile input around encryption: keys pasted where they do not belong, a key in an address, manifests and
// configuration files written by someone who only knows the public keys, and keys reaching a log.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { armor, Encrypter } from 'age-encryption';
import { scoped } from '../../electron/core/kernel/log.js';
import { newKeyPair } from '../../electron/core/kernel/age.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob } from '../support/backups.js';

let app: AppUnderTest;
let work: string;
let storageDir: string;
let storage: Json;
let ds: Json;
let keys: Json;
let backup: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/** A configuration file as an attacker who knows only the recovery key's public key could make one. */
async function forgedKit(contents: unknown): Promise<string> {
  const e = new Encrypter();
  e.addRecipient(keys.recovery_recipient);
  return armor.encode(await e.encrypt(JSON.stringify(contents)));
}

const logText = () =>
  readdirSync(path.join(app.dataDir, 'logs'))
    .map((f) => readFileSync(path.join(app.dataDir, 'logs', f), 'utf8'))
    .join('\n');

before(async () => {
  work = mkdtempSync('/tmp/dg-security-encryption-');
  chmodSync(work, 0o755);
  app = await startApp();
  storageDir = path.join(work, 'storage');
  mkdirSync(storageDir);
  mkdirSync(path.join(work, 'src'));
  writeFileSync(path.join(work, 'src', 'a.txt'), 'hello');
  storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
  ds = await call('datasources.create', { name: 'Folder', type: 'files', connection_config: { source_path: path.join(work, 'src') } });
  keys = await call('encryption.setup');
  backup = await runJob(app, { name: 'Folder', datasource_id: ds.id, storage_location_id: storage.id });
  assert.equal(backup.status, 'completed', backup.error_message);
  assert.ok(backup.metadata.encryption);
});

after(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('keys pasted where they do not belong', () => {
  it('a pasted key that is not one is refused without being repeated; an oversized one is refused at the boundary', async () => {
    const junk = 'AGE-SECRET-KEY-1THISISNOTAKEY; $(touch /tmp/dg-owned)';
    const r = await app.rpc('encryption.checkRecovery', { identity: junk });
    assert.equal(r.body.error.code, 'validation_error');
    assert.ok(!r.text.includes('THISISNOTAKEY') && !r.text.includes('touch'));
    const big = await app.rpc('encryption.checkRecovery', { identity: 'A'.repeat(9000) });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.code, 'validation_error');
    const restore = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_path: path.join(work, 'out'), identity: junk });
    assert.equal(restore.status, 400);
    assert.ok(!restore.text.includes('THISISNOTAKEY'));
  });

  it('write-only needs an explicit confirmation', async () => {
    for (const body of [{}, { confirm: 'yes' }, { confirm: 1 }]) {
      const r = await app.http('POST', '/api/encryption/write-only', body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await call('encryption.get')).write_only, false);
  });

  it('extra public keys must be age public keys, checksum included', async () => {
    const other = await newKeyPair();
    const typo = other.recipient.slice(0, -1) + (other.recipient.endsWith('q') ? 'p' : 'q');
    for (const recipient of [typo, 'ssh-ed25519 AAAA', `${other.recipient} ${other.recipient}`, keys.app_recipient]) {
      const r = await app.http('POST', '/api/encryption/recipients', { recipients: [{ recipient }] });
      assert.ok(r.status === 400 || r.status === 409, `${JSON.stringify(recipient)}: ${r.status} ${r.text}`);
    }
    const ok = await app.http('POST', '/api/encryption/recipients', { recipients: [{ recipient: other.recipient, label: 'Ana' }] });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.backup_recipients, [keys.app_recipient, keys.recovery_recipient, other.recipient]);
    await call('encryption.recipients', { recipients: [] });
  });
});

describe('downloads', () => {
  it('a key in the address is never read: GET decrypts with the app key only; a wrong pasted key gets an error, not bytes', async () => {
    const stored = await app.fetch(`/api/executions/${backup.id}/download?identity=${encodeURIComponent(keys.recovery_identity)}`);
    assert.equal(stored.status, 200);
    assert.match(stored.headers.get('content-disposition')!, /\.age"/, 'as stored: the address asked for nothing else');
    const stranger = await newKeyPair();
    const wrong = await app.fetch(`/api/executions/${backup.id}/download`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity: stranger.identity }),
    });
    // The app's own key still opens it: a wrong extra key changes nothing.
    assert.equal(wrong.status, 200);
    const bad = await app.fetch(`/api/executions/${backup.id}/download`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity: 'nonsense' }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as Json).error.code, 'validation_error');
  });
});

describe('logs', () => {
  it('an identity that reaches a log line is redacted, and the setup wrote none', async () => {
    const pair = await newKeyPair();
    scoped('test').warn(`pasted ${pair.identity} by mistake`, { identity: pair.identity, nested: { recovery_identity: 'x' } });
    scoped('test').error('a failure', new Error(`it quoted ${pair.identity}`));
    await new Promise((r) => setTimeout(r, 200));
    const text = logText();
    assert.ok(text.includes('pasted [redacted] by mistake'), 'the line is kept, the key is not');
    assert.ok(!text.includes(pair.identity));
    assert.ok(!text.includes(keys.recovery_identity));
  });
});

describe('storage written by someone else', () => {
  it('a manifest whose encryption names no age public key, or thousands, is skipped at import', async () => {
    const folder = path.join(storageDir, backup.job_id, backup.backup_path.split('/')[1]);
    const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
    for (const [i, encryption] of [
      { format: 'age', recipients: ['$(reboot)'] },
      { format: 'age', recipients: Array.from({ length: 1000 }, () => keys.recovery_recipient) },
      { format: 'gpg', recipients: [keys.recovery_recipient] },
    ].entries()) {
      const fake = path.join(storageDir, '11111111-1111-4111-8111-111111111111', `2020-01-0${i + 1}_000000`);
      mkdirSync(fake, { recursive: true });
      for (const c of manifest.chunks) writeFileSync(path.join(fake, c.file), readFileSync(path.join(folder, c.file)));
      writeFileSync(
        path.join(fake, 'manifest.json'),
        JSON.stringify({ ...manifest, execution_id: `22222222-2222-4222-8222-22222222222${i}`, job_id: '11111111-1111-4111-8111-111111111111', encryption }),
      );
    }
    const result = await call('storages.import', { id: storage.id });
    assert.equal(result.added, 0, JSON.stringify(result));
    assert.equal(result.skipped.length, 3);
    assert.ok(
      result.skipped.every((s: Json) => /encryption/.test(s.reason)),
      JSON.stringify(result.skipped),
    );
  });

  it('a configuration file forged to the recovery public key is checked like a form, and nothing is written', async () => {
    const fresh = await startApp();
    try {
      const base = {
        format: 'dataguardian-configuration',
        version: 1,
        exported_at: new Date().toISOString(),
        settings: {},
        encryption_keys: [],
        storages: [],
      };
      const forged = [
        { ...base, datasources: [{ id: 'not-a-uuid', name: 'x', type: 'files', connection_config: { source_path: '/' } }], jobs: [] },
        { ...base, datasources: [{ id: ds.id, name: 'x', type: 'shell', connection_config: {} }], jobs: [] },
        {
          ...base,
          datasources: [{ id: ds.id, name: 'x', type: 'files', connection_config: { source_path: '/etc' } }],
          jobs: [{ id: backup.job_id, name: 'j', datasource_id: ds.id, storage_location_ids: [storage.id], schedule_cron: '0 3 * * *' }],
        },
        {
          ...base,
          datasources: [],
          jobs: [],
          encryption_keys: [
            {
              recipient: keys.recovery_recipient,
              role: 'app',
              label: null,
              identity: (await newKeyPair()).identity,
              active: true,
              created_at: '2020-01-01T00:00:00Z',
              retired_at: null,
            },
          ],
        },
        { ...base, format: 'something-else', datasources: [], jobs: [] },
      ];
      for (const kit of forged) {
        const r = await fresh.rpc('config.import', { kit: await forgedKit(kit), identity: keys.recovery_identity });
        assert.equal(r.body.error?.code, 'validation_error', r.text);
      }
      for (const kit of ['hello', '-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----', 'x'.repeat(800_000)]) {
        const r = await fresh.rpc('config.import', { kit, identity: keys.recovery_identity });
        assert.ok(['validation_error', 'damaged'].includes(r.body.error?.code), r.text);
      }
      assert.equal((await fresh.rpc('datasources.list')).body.data.length, 0);
      assert.equal((await fresh.rpc('encryption.get')).body.data.set_up, false);
    } finally {
      await fresh.stop();
    }
  });
});
