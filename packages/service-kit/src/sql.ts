import type { Queryable } from './db.js';
import { rowLoader } from './loaders.js';

/** An object keyed in camelCase as a row keyed by column names (`clientId` to `client_id`); values stay as they are. */
export function columnsOf(row: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));
}

/**
 * Inserts many rows in few statements: the rows travel as one JSON parameter and
 * `jsonb_to_recordset` turns them back into typed columns. Used by seeds.
 * `columns` maps column name to SQL type; rows are keyed by column name.
 */
export async function insertRows(
  q: Queryable,
  table: string,
  columns: Record<string, string>,
  rows: readonly Record<string, unknown>[],
  { chunk = 2000, onConflict = 'DO NOTHING' }: { chunk?: number; onConflict?: string } = {},
): Promise<void> {
  const names = Object.keys(columns);
  const list = names.join(', ');
  const typed = names.map((n) => `${n} ${columns[n]}`).join(', ');
  const sql = `INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_to_recordset($1::jsonb) AS r(${typed}) ON CONFLICT ${onConflict}`;
  for (let i = 0; i < rows.length; i += chunk) {
    await q.query(sql, [JSON.stringify(rows.slice(i, i + chunk))]);
  }
}

/**
 * `UPDATE <table> SET <each column of set>, updated_at = now() WHERE id = $1 RETURNING <returning>`:
 * the row as it is afterwards, or null when no row has that id. Column and table names
 * come from code, never from input; the values travel as parameters.
 */
export async function updateById<R>(q: Queryable, table: string, id: string, set: Readonly<Record<string, unknown>>, returning: string): Promise<R | null> {
  const columns = Object.keys(set);
  const assignments = columns.map((c, i) => `${c} = $${i + 2}, `).join('');
  const [row] = await q.query<R>(`UPDATE ${table} SET ${assignments}updated_at = now() WHERE id = $1 RETURNING ${returning}`, [
    id,
    ...columns.map((c) => set[c]),
  ]);
  return row ?? null;
}

/**
 * A loader of the rows of `table` by id: one `WHERE id = ANY($1)` per batch, results in
 * key order, null for an id with no row. `keep` drops ids before SQL sees them (so that a
 * malformed id matches nothing instead of failing the batch's uuid cast).
 */
export function byIdLoader<R extends { id: string }>(q: Queryable, table: string, columns: string, keep: (id: string) => boolean = () => true) {
  return rowLoader(
    (ids: readonly string[]) => q.query<R>(`SELECT ${columns} FROM ${table} WHERE id = ANY($1::uuid[])`, [ids.filter(keep)]),
    (r) => r.id,
  );
}
