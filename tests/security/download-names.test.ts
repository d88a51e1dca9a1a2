// A job's name is the user's text and becomes a downloaded file's name and an HTTP header: no path,
// quote, control character or header injection gets through, and the name stays readable.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { contentDisposition } from '../../electron/server/http.js';
import { backupFileName } from '../../shared/words.js';

const backup = (job_name: string | null) =>
  backupFileName({
    job_name,
    backup_path: '6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b/2026-12-07_023000',
    created_at: '2026-12-07T02:30:00.000Z',
    artifact: 'backup.dump.gz',
  });

test('a download is named <job>-<date>.<ext>, the date its folder’s on the storage', () => {
  assert.equal(backup('Nightly shop'), 'Nightly shop-2026-12-07_023000.dump.gz');
  assert.equal(backup('Cópia diária (NAS)'), 'Cópia diária (NAS)-2026-12-07_023000.dump.gz');
  assert.equal(backup(null), 'backup-2026-12-07_023000.dump.gz');
  assert.equal(
    backupFileName({ job_name: 'Docs', backup_path: null, created_at: '2026-12-07T02:30:05.123Z', artifact: 'backup.dir.tar.zst' }),
    'Docs-2026-12-07_023005.dir.tar.zst',
  );
});

test('hostile job names: no path, no quote, no control character, never empty', () => {
  const hostile = [
    '../../etc/passwd',
    '..\\..\\Windows\\win.ini',
    'a"; filename=evil.exe',
    'line\r\nX-Injected: 1',
    '\u0000\u001f\u007f',
    '...',
    '   ',
    '/',
    'x'.repeat(400),
    '‮exe.txt',
  ];
  for (const name of hostile) {
    const file = backup(name);
    assert.ok(![...file].some((c) => '/\\"\u007f\u202e'.includes(c) || c.charCodeAt(0) < 0x20), `${JSON.stringify(name)} → ${JSON.stringify(file)}`);
    assert.doesNotMatch(file, /^\./, 'not a hidden file, not ..');
    assert.ok(file.length < 120, 'a name a file system takes');
    assert.match(file, /-2026-12-07_023000\.dump\.gz$/);
  }
  assert.equal(backup('   '), 'backup-2026-12-07_023000.dump.gz');
  assert.equal(backup('../../etc/passwd'), 'etc-passwd-2026-12-07_023000.dump.gz');
});

test('the Content-Disposition header a real HTTP server sends is valid and names the file exactly', async () => {
  const names = ['Nightly shop-2026-12-07_023000.dump.gz', 'Cópia diária (NAS)-2026-12-07_023000.tar.zst', `it's * 100%-2026.tar`];
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Disposition': contentDisposition(names[Number(req.url!.slice(1))]!) });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    for (const [i, name] of names.entries()) {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${i}`);
      const header = res.headers.get('content-disposition')!;
      const ascii = /filename="([^"]*)"/.exec(header)?.[1];
      const encoded = /filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)$/.exec(header)?.[1];
      assert.ok(ascii && /^[\x20-\x7e]+$/.test(ascii), header);
      assert.ok(encoded, `only RFC 5987 attr-chars: ${header}`);
      assert.equal(decodeURIComponent(encoded), name);
    }
  } finally {
    server.close();
  }
});
