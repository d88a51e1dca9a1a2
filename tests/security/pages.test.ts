// The lists' paging input comes from a URL anyone can type: `before` and `limit` are checked at the
// boundary, never reach SQL as text, and a hostile value changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppUnderTest } from '../support/app.js';

let app: AppUnderTest;

before(async () => {
  app = await startApp();
});

after(() => app?.stop());

describe('paging input', () => {
  it('refuses a `before` that is not an execution id, and a limit out of range, with a validation error', async () => {
    const hostile = [
      "x') OR 1=1 --",
      '00000000-0000-0000-0000-000000000000; DROP TABLE backup_executions',
      '../../etc/passwd',
      '%27%3B%20DROP%20TABLE%20backup_executions%3B--',
    ];
    const ds = randomUUID();
    for (const value of hostile) {
      for (const route of [`/api/executions?before=${encodeURIComponent(value)}`, `/api/backups/datasources/${ds}?before=${encodeURIComponent(value)}`]) {
        const r = await app.http('GET', route);
        assert.equal(r.status, 400, `${route}: ${r.text}`);
        assert.equal(r.body.error.code, 'validation_error');
        assert.doesNotMatch(r.text, /\.ts:\d+/, 'no stack trace');
      }
    }
    for (const limit of ['0', '-1', '100000', 'all']) {
      const r = await app.http('GET', `/api/executions?limit=${limit}`);
      assert.equal(r.status, 400, r.text);
    }
    const r = await app.http('GET', `/api/executions?before=${randomUUID()}`);
    assert.equal(r.status, 404, 'an id that is no execution: the list changed, reload it');
    const [table] = (await app.core.db.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'backup_executions'`)) as {
      n: number;
    }[];
    assert.equal(table?.n, 1, 'the table is still there');
  });
});
