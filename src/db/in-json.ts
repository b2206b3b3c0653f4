import { type SQL, type SQLWrapper, sql } from "drizzle-orm";

/**
 * `column IN (…ids)` bound as one JSON parameter and read with `json_each`, so any number of ids fits
 * in D1's 100 bound parameters a statement.
 */
export function inJson(column: SQLWrapper, ids: readonly string[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}
