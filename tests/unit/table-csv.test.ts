// One table as CSV: RFC 4180 quoting (as PostgreSQL's COPY … CSV quotes), PostgreSQL's COPY text values and
// mysqldump's INSERT values decoded, a row cut short refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insertValues } from '../../electron/core/engines/mysql/tables.js';
import { copyColumns, copyValue } from '../../electron/core/engines/postgres/tables.js';
import { csvField, csvOf } from '../../electron/core/restore/csv.js';

describe('CSV of a table', () => {
  it('quotes what must be quoted, and keeps an empty string apart from NULL', async () => {
    assert.equal(csvField(null), '');
    assert.equal(csvField(''), '""');
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('\\.'), '"\\."');
    let out = '';
    for await (const piece of csvOf({
      columns: ['id', 'näme'],
      rows: (async function* () {
        yield ['1', null];
        yield ['2', 'x,y'];
      })(),
    }))
      out += piece;
    assert.equal(out, 'id,näme\r\n1,\r\n2,"x,y"\r\n');
  });

  it("decodes PostgreSQL's COPY text", () => {
    assert.equal(copyValue('\\N'), null);
    assert.equal(copyValue('a\\tb\\nc\\\\d\\r'), 'a\tb\nc\\d\r');
    assert.equal(copyValue('\\101\\x42'), 'AB');
    assert.deepEqual(copyColumns('COPY public."café ☕" (id, "Prénom", "a ""q"" b") FROM stdin;'), ['id', 'Prénom', 'a "q" b']);
  });

  it("decodes mysqldump's INSERT values", () => {
    assert.deepEqual(
      [...insertValues("(1,'a\\'b',NULL),(2,'x\\\\y\\nz',0x00FF),\n(3,'',-1.5);")],
      [
        ['1', "a'b", null],
        ['2', 'x\\y\nz', '0x00FF'],
        ['3', '', '-1.5'],
      ],
    );
    assert.throws(() => [...insertValues("(1,'cut")], /cut short/);
  });
});
