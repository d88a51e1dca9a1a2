// Hostile input on the inbox and Overview routes, against the real app behind its real HTTP transport:
// every bad filter, page or id list gets a 400 that names the field and changes nothing; none answers without the token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppUnderTest } from '../support/app.js';

let app: AppUnderTest;

before(async () => {
  app = await startApp();
  for (let n = 0; n < 3; n++) {
    await app.core.notifier.notify({
      type: 'connection_lost',
      severity: 'critical',
      entity_type: 'system',
      entity_id: '00000000-0000-4000-8000-000000000000',
      title: `Lost ${n}`,
      message: '',
    });
  }
});

after(async () => {
  await app?.stop();
});

describe('inbox and overview routes refuse what they do not expect', () => {
  const bad: [route: string, field: string][] = [
    ['/api/notifications?severity=urgent', 'severity'],
    ["/api/notifications?type=connection_lost'%20OR%20'1'='1", 'type'],
    ['/api/notifications?offset=-1', 'offset'],
    ['/api/notifications?offset=1e9', 'offset'],
    ['/api/notifications?limit=100000', 'limit'],
    ['/api/notifications?limit=abc', 'limit'],
    ['/api/notifications?unread=maybe', 'unread'],
  ];
  for (const [route, field] of bad) {
    it(`GET ${route}: 400 naming ${field}`, async () => {
      const r = await app.http('GET', route);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'validation_error', r.text);
      assert.deepEqual(
        r.body.error.issues.map((i: { path: string }) => i.path),
        [field],
      );
      assert.doesNotMatch(r.text, /at .*\.ts:\d+/, 'no stack trace');
    });
  }

  it('mark read: too many ids, or ids that are not ids, are refused and nothing is marked', async () => {
    const many = Array.from({ length: 501 }, () => crypto.randomUUID());
    assert.equal((await app.http('POST', '/api/notifications/read', { ids: many })).status, 400);
    assert.equal((await app.http('POST', '/api/notifications/read', { ids: ["' OR 1=1 --"] })).status, 400);
    assert.equal((await app.http('POST', '/api/notifications/read', { ids: 'all' })).status, 400);
    assert.equal((await app.http('GET', '/api/notifications/unread-count')).body.unread, 3);
  });

  it('the Overview takes no input', async () => {
    const r = await app.rpc('overview.get', { datasource_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(r.status, 400, r.text);
  });

  for (const route of ['/api/overview', '/api/notifications', '/api/notifications/unread-count']) {
    it(`GET ${route} without the token: 401 and no data`, async () => {
      const res = await fetch(app.url + route);
      assert.equal(res.status, 401);
      assert.doesNotMatch(await res.text(), /Lost \d|datasources/);
    });
  }
});
