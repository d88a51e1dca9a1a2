import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastDrillText } from '../../shared/drill-words.js';

const now = Date.parse('2026-12-07T12:00:00Z');
const base = { execution_id: '00000000-0000-4000-8000-000000000001', error_message: null };

describe('the last drill in one line', () => {
  it('says when it passed and how long a full restore took, in human units', () => {
    assert.equal(
      lastDrillText({ ...base, status: 'completed', at: '2026-12-05T12:00:00Z', rto_seconds: 252 }, now),
      'Last drill passed 2 days ago · a full restore took 4 min 12 s',
    );
  });
  it('names what failed', () => {
    assert.equal(
      lastDrillText(
        { ...base, status: 'failed', at: '2026-12-07T09:00:00Z', rto_seconds: 3, error_message: 'checksums: part-002 on Backblaze: checksum mismatch' },
        now,
      ),
      'Last drill failed 3 hours ago: checksums: part-002 on Backblaze: checksum mismatch',
    );
  });
  it('a write-only drill measured no restore; none yet says so', () => {
    assert.equal(
      lastDrillText({ ...base, status: 'completed', at: '2026-12-07T11:00:00Z', rto_seconds: null }, now),
      'Last drill passed 1 hour ago · checksums only (write-only mode)',
    );
    assert.equal(lastDrillText(null, now), 'No drill yet');
  });
});
