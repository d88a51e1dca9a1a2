// Secrets follow their host: a stored password is only ever sent to the server (and user) it was typed
// for. Change the host, port or user (an S3 endpoint, bucket or key id) without typing it again, and it
// is left out: of the connection test, and of the saved config.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { changedIdentity, secretsToRetype } from '../../shared/secrets.js';
import { startPostgres, startS3 } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let s3: Awaited<ReturnType<typeof startS3>>;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/**
 * A PostgreSQL server as far as the first message after the startup: it asks for the password in clear
 * text, keeps every byte the client sends, and refuses. What it holds is what a server at that address
 * would have learnt.
 */
async function passwordTrap(): Promise<{ port: number; heard(): string; forget(): void; close(): Promise<void> }> {
  let bytes = Buffer.alloc(0);
  const server: Server = createServer((socket) => {
    let asked = false;
    socket.on('data', (data) => {
      bytes = Buffer.concat([bytes, data]);
      if (!asked) {
        asked = true;
        // AuthenticationCleartextPassword: 'R', length 8, code 3.
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
        return;
      }
      const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0');
      const head = Buffer.alloc(5);
      head.write('E');
      head.writeInt32BE(fields.length + 4, 1);
      socket.end(Buffer.concat([head, fields]));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    heard: () => bytes.toString('latin1'),
    forget: () => void (bytes = Buffer.alloc(0)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

before(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  await s3.createBucket('dg-secrets');
  app = await startApp();
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), s3?.stop()]);
});

describe('datasource secrets follow their host', () => {
  it('a changed host without a password clears the saved one; a changed database keeps it', async () => {
    const config = { host: pg.host, port: pg.port, database: 'postgres', username: pg.user };
    const ds = await call('datasources.create', { name: 'Shop', type: 'postgres', connection_config: { ...config, password: pg.password } });

    // Not an identity field: the saved password still goes with it, and the save's test connects.
    const otherDb = await call('datasources.update', { id: ds.id, connection_config: { ...config, database: 'template1' } });
    assert.equal(otherDb.connection_config.password_set, true);
    assert.equal((await call('datasources.test', { id: ds.id })).ok, true);

    // "Test connection" with the host changed: run without the saved password, and the answer says why.
    const tested = await call('datasources.test', { id: ds.id, connection_config: { ...config, host: 'localhost' } });
    assert.equal(tested.ok, false);
    assert.match(tested.message, /The saved password is not sent to a new host, port or user: type it again\./);

    // Saved with the host changed and no password: the password is gone from the stored config, not just hidden.
    const refused = await app.rpc('datasources.update', { id: ds.id, connection_config: { ...config, host: 'localhost' } });
    assert.equal(refused.body.ok, false, 'the test without the password fails, so the save is refused');
    assert.match(refused.body.error.message, /type it again/);
    const moved = await call('datasources.update', { id: ds.id, connection_config: { ...config, host: 'localhost' }, save_anyway: true });
    assert.equal(moved.connection_config.password_set ?? false, false);
    assert.equal(moved.connection_config.host, 'localhost');
    assert.equal((await call('datasources.get', { id: ds.id })).connection_config.password_set ?? false, false);
    const saved = await call('datasources.test', { id: ds.id });
    assert.equal(saved.ok, false, 'the saved config has no password left to send');
    const back = await call('datasources.test', { id: ds.id, connection_config: config });
    assert.equal(back.ok, false, 'moving back to the old host does not bring the password back');
    assert.doesNotMatch(app.transcript.join('\n'), new RegExp(pg.password));
  });

  it('"Test connection" against a changed port or user does not send the saved password there', async () => {
    const [first, second] = await Promise.all([passwordTrap(), passwordTrap()]);
    try {
      const old = 'the-old-password-7f3a';
      const config = { host: '127.0.0.1', port: first.port, database: 'crm', username: 'dg' };
      const ds = await call('datasources.create', {
        name: 'Trap',
        type: 'postgres',
        connection_config: { ...config, password: old },
        save_anyway: true,
      });

      // The control: the same server and user, no password typed: the saved one is sent, and the trap sees it.
      first.forget();
      const same = await call('datasources.test', { id: ds.id, connection_config: config });
      assert.equal(same.status, 'auth_failed');
      assert.ok(first.heard().includes(old), 'the trap records a password that is sent');
      assert.doesNotMatch(same.message, /type it again/);

      const otherPort = await call('datasources.test', { id: ds.id, connection_config: { ...config, port: second.port } });
      assert.ok(second.heard().includes('crm'), 'the client did reach the other port');
      assert.ok(!second.heard().includes(old), 'the saved password was not sent to another port');
      assert.match(otherPort.message, /type it again/);

      first.forget();
      const otherUser = await call('datasources.test', { id: ds.id, connection_config: { ...config, username: 'someone' } });
      assert.ok(first.heard().includes('someone'));
      assert.ok(!first.heard().includes(old), 'nor as another user');
      assert.match(otherUser.message, /type it again/);

      // A password typed for the new server is, of course, sent.
      second.forget();
      const typed = await call('datasources.test', { id: ds.id, connection_config: { ...config, port: second.port, password: 'typed-for-this-one' } });
      assert.ok(second.heard().includes('typed-for-this-one'));
      assert.doesNotMatch(typed.message, /type it again/);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('storage secrets follow their host', () => {
  it('a changed S3 endpoint without the secret key clears the saved one; a changed prefix keeps it', async () => {
    const config = { endpoint: s3.endpoint, bucket: 'dg-secrets', access_key: s3.accessKeyId };
    const bucket = await call('storages.create', { name: 'Bucket', type: 'minio', config: { ...config, secret_key: s3.secretAccessKey } });
    assert.equal(bucket.config.secret_key_set, true);

    const prefixed = await call('storages.update', { id: bucket.id, config: { ...config, prefix: 'office/' } });
    assert.equal(prefixed.config.secret_key_set, true, 'the prefix is not where the key goes');

    const elsewhere = { ...config, endpoint: s3.endpoint.replace('127.0.0.1', 'localhost') };
    const tested = await call('storages.test', { id: bucket.id, config: elsewhere });
    assert.match(tested.message, /The saved secret key is not sent to a new host, port or user: type it again\./);

    const moved = await call('storages.update', { id: bucket.id, config: elsewhere, save_anyway: true });
    assert.equal(moved.config.secret_key_set ?? false, false);
    assert.equal((await call('storages.get', { id: bucket.id })).config.secret_key_set ?? false, false);
  });
});

describe('which fields are the identity', () => {
  it('host, port and user for a server; endpoint, bucket and key id for S3; a form\'s "5432" is the saved 5432', () => {
    const saved = { host: 'db.example.com', port: 5432, database: 'shop', username: 'app', password_set: true };
    assert.deepEqual(changedIdentity('postgres', { ...saved, port: '5432', database: 'other' }, saved), []);
    assert.deepEqual(changedIdentity('postgres', { ...saved, host: 'evil.example.com' }, saved), ['host']);
    assert.deepEqual(changedIdentity('mysql', { ...saved, port: 3307, username: 'root' }, saved), ['port', 'username']);
    assert.deepEqual(
      changedIdentity('s3', { endpoint: 'https://other', bucket: 'b', access_key_id: 'k' }, { endpoint: 'https://s3', bucket: 'b', access_key_id: 'k' }),
      ['endpoint'],
    );
    assert.deepEqual(changedIdentity('files', { source_path: '/x' }, { source_path: '/y' }), [], 'no secret, no identity');

    // What the form shows: a note only while the secret field is empty.
    assert.deepEqual(secretsToRetype('postgres', { ...saved, host: 'evil.example.com', password: '' }, saved), ['password']);
    assert.deepEqual(secretsToRetype('postgres', { ...saved, host: 'evil.example.com', password: 'typed' }, saved), []);
    assert.deepEqual(secretsToRetype('postgres', { ...saved, database: 'other', password: '' }, saved), []);
    assert.deepEqual(secretsToRetype('postgres', { ...saved, host: 'x' }, undefined), [], 'a new datasource has nothing saved');
  });
});
