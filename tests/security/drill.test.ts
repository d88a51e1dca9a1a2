// Drills against hostile input: names in the printable report (a job, a storage, a check called <script>), a
// job's assertion that tries to read the server's files or run a second statement, and a manifest whose
// sampled file points outside the restored folder.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresDrill } from '../../electron/core/engines/postgres/drill.js';
import { checkRestored } from '../../electron/core/executions/drill-checks.js';
import { drillReportHtml, drillReportName, type DrillRecord } from '../../electron/core/executions/drill-report.js';
import type { ServerConnectionConfig } from '../../shared/schemas/datasource.js';
import { removeTempDir, startPostgres, tempDir, type PgServer } from '../harness/index.js';

const HOSTILE = `<script>alert(1)</script>"><img src=x onerror=alert(2)>'&`;
const signal = new AbortController().signal;

function record(): DrillRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    status: 'failed',
    started_at: new Date('2026-12-07T10:00:00Z'),
    finished_at: new Date('2026-12-07T10:04:12Z'),
    error_message: `checks: ${HOSTILE}`,
    metadata: {
      operation: 'drill',
      execution_logs: [],
      source_execution_id: '00000000-0000-4000-8000-000000000002',
      pick: 'latest',
      job_name: `../../${HOSTILE}`,
      datasource_name: HOSTILE,
      datasource_type: 'postgres',
      backup_taken_at: '2026-12-06T03:00:00.000Z',
      copies: [{ storage_name: HOSTILE, storage_type: 's3', ok: false, parts: 3, error: `part-002 on ${HOSTILE}: checksum mismatch` }],
      phases: [{ name: 'checksums', seconds: 1.25, ok: false, detail: HOSTILE }],
      checks: [{ name: `Assertion “${HOSTILE}”`, ok: false, detail: HOSTILE }],
      rto_seconds: 252,
      rpo_seconds: 25_200,
      scratch: HOSTILE,
      tool_versions: { [HOSTILE]: HOSTILE },
    },
  };
}

describe('the drill report', () => {
  it('escapes every name it shows: no tag, attribute or script of a user’s or a storage’s making survives', () => {
    const html = drillReportHtml(record());
    assert.doesNotMatch(html, /<script|<img|onerror=alert\(2\)>/i);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;&amp;'));
    // Self-contained, and nothing in it may run or load.
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
    assert.doesNotMatch(html, /<[a-z]+\s[^>]*\b(src|href|on\w+)=/i);
  });

  it('its file name is a plain name, whatever the job is called', () => {
    const name = drillReportName(record());
    assert.match(name, /^drill-[A-Za-z0-9._-]+-2026-12-07_100412\.html$/);
    assert.ok(!name.includes('/') && !name.includes('..'));
  });
});

describe('a job’s assertions', () => {
  let pg: PgServer;
  let config: ServerConnectionConfig;
  before(async () => {
    pg = await startPostgres();
    await pg.createDatabase('dg_drill_hostile');
    await pg.query('CREATE TABLE orders (id int)', 'dg_drill_hostile');
    await pg.query('INSERT INTO orders VALUES (1), (2)', 'dg_drill_hostile');
    config = { host: pg.host, port: pg.port, database: 'dg_drill_hostile', username: pg.user, password: pg.password, ssl_mode: 'disable' };
  });
  after(async () => {
    await pg?.stop();
  });

  it('run as a role that reads the tables and nothing of the server, even when DataGuardian connects as a superuser', async () => {
    const [me] = await pg.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
    assert.equal(me?.su, true, 'the harness connects as a superuser, as the embedded server does');
    assert.equal(await postgresDrill.assert(config, 'select count(*) = 2 from orders', signal), true);
    await assert.rejects(postgresDrill.assert(config, "select pg_read_file('/etc/passwd') is not null", signal), /permission denied/);
    await assert.rejects(postgresDrill.assert(config, "copy (select 1) to program 'touch /tmp/dg-pwned'", signal), /must be superuser|permission denied/);
  });

  it('are one read-only statement: a second statement (that would leave the read-only transaction) or a write is refused', async () => {
    await assert.rejects(postgresDrill.assert(config, 'select true; rollback; reset role; drop table orders', signal), /cannot insert multiple commands/);
    await assert.rejects(postgresDrill.assert(config, 'delete from orders returning true', signal), /read-only|permission denied/);
    assert.deepEqual(await pg.query('SELECT count(*)::int AS n FROM orders', 'dg_drill_hostile'), [{ n: 2 }]);
  });
});

describe('a folder’s sampled files', () => {
  let work: string;
  before(async () => {
    work = await tempDir('dg-drill-security-');
  });
  after(async () => {
    if (work) await removeTempDir(work);
  });

  it('a sample path from a manifest that leads outside the restored folder is not read, and fails the check', async () => {
    const root = path.join(work, 'restored');
    mkdirSync(root);
    writeFileSync(path.join(root, 'a.txt'), 'a');
    writeFileSync(path.join(work, 'secret.txt'), 'not part of the backup');
    const { checks } = await checkRestored({
      type: 'files',
      checks: null,
      config: { source_path: root, include_patterns: [], exclude_patterns: [] },
      recorded: { files_count: 1, file_samples: [{ path: '../secret.txt', sha256: '0'.repeat(64) }] },
      assertions: [],
      signal,
    });
    const hashes = checks.find((c) => c.name === 'File hashes')!;
    assert.equal(hashes.ok, false);
    assert.equal(hashes.detail, '../secret.txt is outside the folder');
  });
});
