/**
 * Keyset paging on (time, id), the one way lists page: an opaque cursor names the last row a page
 * held, the next page is the rows past it in the list's order, and `nextCursor` is null on the last.
 */
import { and, asc, desc, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";
import { invalidInput } from "../lib/errors";

interface Position {
  at: number;
  id: string;
}

const encodeCursor = (p: Position) => toBase64Url(utf8(JSON.stringify([p.at, p.id])));

/** The position a cursor names; 400 INVALID_INPUT for anything this API did not hand out. */
function decodeCursor(cursor: string): Position {
  try {
    const [at, id] = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor))) as unknown[];
    if (typeof at === "number" && Number.isInteger(at) && typeof id === "string") return { at, id };
  } catch {
    // fall through to the validation error
  }
  throw invalidInput(
    [{ path: "cursor", message: "is not a cursor this API returned" }],
    "The query string is not valid",
  );
}

export class Keyset {
  constructor(
    private readonly at: SQLiteColumn,
    private readonly id: SQLiteColumn,
    private readonly direction: "asc" | "desc",
  ) {}

  /** The rows past `cursor` in this order (none to add without a cursor). */
  after(cursor: string | undefined): SQL[] {
    if (!cursor) return [];
    const p = decodeCursor(cursor);
    const past = this.direction === "asc" ? gt : lt;
    return [or(past(this.at, p.at), and(eq(this.at, p.at), past(this.id, p.id))) as SQL];
  }

  orderBy(): SQL[] {
    const by = this.direction === "asc" ? asc : desc;
    return [by(this.at), by(this.id)];
  }

  /** Of `limit + 1` rows read, the page and the cursor to the next one. */
  page<T>(rows: T[], limit: number, position: (row: T) => Position): { page: T[]; nextCursor: string | null } {
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { page, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
  }
}
