import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../shared/errors.js';
import { STORAGE_CONFIG } from '../../shared/schemas/storage.js';
import { checkKey, checkPrefix } from '../../electron/core/storage/keys.js';
import { MAX_PARTS, MIN_PART_BYTES, partSizeFor } from '../../electron/core/storage/s3/upload.js';
import { s3Settings } from '../../electron/core/storage/s3/index.js';

const MiB = 1024 * 1024;
const GB = 1000 ** 3;

/** Bytes that MAX_PARTS parts can carry. */
function capacity(sizeHint?: number): number {
  let total = 0;
  for (let n = 1; n <= MAX_PARTS; n++) total += partSizeFor(n, sizeHint);
  return total;
}

describe('storage keys', () => {
  test('relative slash-separated keys pass unchanged', () => {
    assert.equal(checkKey('job/2024-01-02_030405/backup.dump.gz.part-001'), 'job/2024-01-02_030405/backup.dump.gz.part-001');
    assert.equal(checkKey('manifest.json'), 'manifest.json');
    assert.equal(checkKey('a/..b/c..'), 'a/..b/c..');
  });

  test('keys that could leave the root are refused', () => {
    for (const key of ['', '..', '../x', 'a/../b', 'a/..', '/abs', 'a//b', 'a/./b', 'a/', 'a\\..\\b', 'C:/x', 'a\0b']) {
      assert.throws(
        () => checkKey(key),
        (e: AppError) => e.code === 'validation_error',
        key,
      );
    }
  });

  test('prefixes may be empty, a folder, or the start of a name', () => {
    for (const prefix of ['', 'job/', 'job/2024-', 'job']) assert.equal(checkPrefix(prefix), prefix);
    for (const prefix of ['/', '../', 'a//', '/job/'])
      assert.throws(
        () => checkPrefix(prefix),
        (e: AppError) => e.code === 'validation_error',
        prefix,
      );
  });
});

describe('S3 part sizes', () => {
  test('never below 8 MiB, and constant for an object that matches its hint', () => {
    assert.equal(partSizeFor(1), MIN_PART_BYTES);
    assert.equal(partSizeFor(5_000), MIN_PART_BYTES);
    const hint = 200 * GB;
    assert.equal(partSizeFor(1, hint), partSizeFor(5_000, hint));
    assert.ok(partSizeFor(1, hint) * 5_000 >= hint);
    // Memory is a few parts: a 200 GB hint asks for 39 MiB parts, not more.
    assert.equal(partSizeFor(1, hint), 39 * MiB);
  });

  test('10,000 parts always cover the hint, and a stream without one up to 500 GB', () => {
    for (const hint of [0, 1, 50 * 1000 * 1000, 41 * GB, 500 * GB, 4_000 * GB]) assert.ok(capacity(hint) >= hint, `hint ${hint}`);
    assert.ok(capacity() >= 500 * GB, `${capacity()}`);
  });

  test('a stream that outgrows its hint gets larger parts instead of failing at part 10,001', () => {
    const hint = 10 * GB;
    assert.ok(partSizeFor(6_000, hint) > partSizeFor(5_000, hint));
    assert.ok(capacity(hint) >= 10 * hint);
    assert.ok(partSizeFor(MAX_PARTS, hint) <= 5 * 1024 * MiB);
  });
});

describe('S3 settings per storage type', () => {
  const minio = (over: Record<string, unknown>) =>
    s3Settings('minio', STORAGE_CONFIG.minio.parse({ endpoint: 'nas.local:9000', bucket: 'b', access_key: 'k', secret_key: 's', ...over }));
  const b2 = (over: Record<string, unknown>) =>
    s3Settings('backblaze', STORAGE_CONFIG.backblaze.parse({ bucket_name: 'b', application_key_id: 'k', application_key: 's', ...over }));

  test('MinIO: use_ssl picks the scheme when the endpoint has none; path-style, checksums only when required', () => {
    assert.equal(minio({}).endpoint, 'http://nas.local:9000');
    assert.equal(minio({ use_ssl: true }).endpoint, 'https://nas.local:9000');
    assert.equal(minio({ endpoint: 'https://minio.example.com/', use_ssl: false }).endpoint, 'https://minio.example.com');
    assert.equal(minio({}).forcePathStyle, true);
    assert.equal(minio({}).checksumsWhenRequired, true);
  });

  test('Backblaze: the endpoint comes from the config, else from the region, else it is asked for', () => {
    assert.deepEqual(
      [b2({ endpoint: 'https://s3.eu-central-003.backblazeb2.com' })].map((s) => [s.endpoint, s.region]),
      [['https://s3.eu-central-003.backblazeb2.com', 'eu-central-003']],
    );
    assert.equal(b2({ region: 'us-west-004' }).endpoint, 'https://s3.us-west-004.backblazeb2.com');
    assert.equal(b2({ region: 'us-west-004' }).checksumsWhenRequired, true);
    assert.throws(
      () => b2({}),
      (e: AppError) => e.code === 'validation_error' && /endpoint/.test(e.message),
    );
  });

  test('S3: the SDK defaults stay for AWS itself, a custom endpoint sends checksums only when required', () => {
    const base = { bucket: 'b', access_key_id: 'k', secret_access_key: 's' };
    const aws = s3Settings('s3', STORAGE_CONFIG.s3.parse(base));
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.checksumsWhenRequired, false);
    assert.equal(aws.region, 'us-east-1');
    assert.equal(s3Settings('s3', STORAGE_CONFIG.s3.parse({ ...base, endpoint: 'https://s3.wasabisys.com' })).checksumsWhenRequired, true);
  });

  test('the prefix is a folder inside the bucket, slashes trimmed; one that climbs out is refused', () => {
    assert.equal(minio({ prefix: '/backups/office/' }).prefix, 'backups/office');
    assert.equal(minio({ prefix: '' }).prefix, '');
    assert.throws(
      () => minio({ prefix: 'a/../..' }),
      (e: AppError) => e.code === 'validation_error',
    );
  });
});
