/** Opaque page cursors: the (time, id) position of the last row a page held. */
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import { invalidInput } from "./errors";

export interface Position {
  at: number;
  id: string;
}

export const encodeCursor = (p: Position) => toBase64Url(utf8(JSON.stringify([p.at, p.id])));

/** The position a cursor names; 400 INVALID_INPUT for anything this API did not hand out. */
export function decodeCursor(cursor: string): Position {
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
