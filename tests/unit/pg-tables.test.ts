// Which entries of a PostgreSQL archive's list a restore of chosen tables keeps: the table and what hangs on it (found
// through the dependency ids of `pg_restore --list --verbose`), what it needs that the target lacks, and a foreign key
// to a table left out reported by name, whatever order its dependencies come in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseEntries, parseVerboseList, pickTables } from '../../electron/core/engines/postgres/tables.js';

// pg_restore 15's --list --verbose of a shop: a schema with a type and a trigger function, customers, sales.orders.
const LIST = `;
; Selected TOC Entries:
;
3377; 0 0 ENCODING - ENCODING 
3378; 0 0 STDSTRINGS - STDSTRINGS 
3379; 0 0 SEARCHPATH - SEARCHPATH 
6; 2615 16385 SCHEMA - sales dg
845; 1247 16387 TYPE sales status dg
;	depends on: 6
222; 1255 16415 FUNCTION sales touch() dg
;	depends on: 6
220; 1259 16417 TABLE public café au lait dg
216; 1259 16392 TABLE public customers dg
215; 1259 16391 SEQUENCE public customers_id_seq dg
;	depends on: 216
3381; 0 0 SEQUENCE OWNED BY public customers_id_seq dg
;	depends on: 215
219; 1259 16402 TABLE sales orders dg
;	depends on: 845 845 6
3382; 0 0 COMMENT sales TABLE orders dg
;	depends on: 219
3383; 0 0 ACL sales TABLE orders dg
;	depends on: 219
221; 1259 16420 VIEW public v dg
;	depends on: 219 219 219 219 219 845
217; 1259 16400 SEQUENCE sales orders_id_seq dg
;	depends on: 6 219
3384; 0 0 SEQUENCE OWNED BY sales orders_id_seq dg
;	depends on: 217
3216; 2604 16395 DEFAULT public customers id dg
;	depends on: 216 215 216
3217; 2604 16405 DEFAULT sales orders id dg
;	depends on: 217 219 219
3374; 0 16417 TABLE DATA public café au lait dg
;	depends on: 220
3370; 0 16392 TABLE DATA public customers dg
;	depends on: 216
3373; 0 16402 TABLE DATA sales orders dg
;	depends on: 219
3385; 0 0 SEQUENCE SET public customers_id_seq dg
;	depends on: 215
3386; 0 0 SEQUENCE SET sales orders_id_seq dg
;	depends on: 217
3220; 2606 16399 CONSTRAINT public customers customers_pkey dg
;	depends on: 216
3222; 2606 16408 CONSTRAINT sales orders orders_pkey dg
;	depends on: 219
3223; 1259 16414 INDEX sales orders_total dg
;	depends on: 219
3225; 2620 16416 TRIGGER sales orders orders_touch dg
;	depends on: 219 222
3224; 2606 16409 FK CONSTRAINT sales orders orders_customer_id_fkey dg
;	depends on: 216 3220 219
`;

const restored = (data: string[]) => data.filter((l) => /^\d+;/.test(l)).map((l) => Number(l.split(';')[0]));

describe('the entries a restore of chosen tables keeps', () => {
  const list = parseVerboseList(LIST);

  it('sales.orders into a new database: its data, sequence, default, keys, index, comment and trigger, with the schema, type and function it needs', () => {
    const choice = chooseEntries(list, pickTables(list, ['sales.orders']), new Set(['SCHEMA:.public']));
    assert.deepEqual(
      restored(choice.data).sort((a, b) => a - b),
      [6, 217, 219, 222, 845, 3217, 3222, 3223, 3225, 3373, 3377, 3378, 3379, 3382, 3384, 3386],
    );
    assert.deepEqual(choice.grants, ['3383; 0 0 ACL sales TABLE orders dg']);
    // Its dependencies list customers first: the key is still the orders' own, and reported.
    assert.deepEqual(choice.leftOut, ['orders_customer_id_fkey → public.customers was not restored: the table was not chosen']);
  });

  it('into a database that has the schema, type, function and customers: those are not restored again, and the foreign key is', () => {
    const present = new Set([
      'SCHEMA:.sales',
      'TYPE:sales.status',
      'FUNCTION:sales.touch',
      'TABLE:public.customers',
      'CONSTRAINT:public.customers customers_pkey',
    ]);
    const choice = chooseEntries(list, pickTables(list, ['sales.orders']), present);
    const kept = restored(choice.data);
    for (const id of [6, 845, 222]) assert.ok(!kept.includes(id), `${id} is already there`);
    assert.ok(kept.includes(3224), 'the foreign key to the customers the database holds');
    assert.deepEqual(choice.leftOut, []);
  });

  it('customers alone: the foreign key of orders that points at it is not news', () => {
    const choice = chooseEntries(list, pickTables(list, ['public.customers']), new Set());
    assert.deepEqual(
      restored(choice.data).sort((a, b) => a - b),
      [215, 216, 3216, 3220, 3370, 3377, 3378, 3379, 3381, 3385],
    );
    assert.deepEqual(choice.leftOut, []);
  });

  it('a name with spaces and accents; a view or a name the archive lacks is refused', () => {
    assert.equal(pickTables(list, ['public.café au lait'])[0]!.id, 220);
    assert.throws(() => pickTables(list, ['public.v']), /“public\.v” is not a table of this backup/);
    assert.throws(() => pickTables(list, ['public.nope']), /is not a table of this backup/);
  });
});
