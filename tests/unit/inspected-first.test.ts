// A backup's dump runs beside the inspection of its source; when both fail, the inspection says what is wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../shared/errors.js';
import { inspectedFirst } from '../../electron/core/executions/backup.js';

const notFound = () => new AppError('not_found', 'Folder not found: /srv/shared');
const broken = () => new Error('The folder backup stopped before its end');
const rejected = (e: Error) => {
  const p = Promise.reject(e);
  p.catch(() => undefined);
  return p;
};

describe('the dump beside the inspection', () => {
  it('both failing: the inspection’s error is reported, even when it ends after the dump’s', async () => {
    const late = new Promise((_, reject) => setTimeout(() => reject(notFound()), 20));
    late.catch(() => undefined);
    await assert.rejects(
      inspectedFirst(late, new AbortController().signal, () => rejected(broken())),
      { message: 'Folder not found: /srv/shared' },
    );
  });

  it('the inspection fine: the dump’s own error (a storage refusing) passes through; a dump that ends is its result', async () => {
    const fine = Promise.resolve({});
    await assert.rejects(
      inspectedFirst(fine, new AbortController().signal, () => rejected(new Error('disk full'))),
      { message: 'disk full' },
    );
    assert.equal(await inspectedFirst(fine, new AbortController().signal, async () => 'written'), 'written');
  });

  it('cancelled: reported at once, without waiting for an inspection that never ends', async () => {
    const abort = new AbortController();
    abort.abort(new Error('Cancelled by the user'));
    const never = new Promise(() => undefined);
    await assert.rejects(
      inspectedFirst(never, abort.signal, () => rejected(new Error('aborted'))),
      { message: 'aborted' },
    );
  });
});
