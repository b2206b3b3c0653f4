import { z } from "zod";
import { type IdPrefix, idPattern } from "../lib/ids";

export const idOf = (prefix: IdPrefix) => z.string().regex(idPattern(prefix), `must be a ${prefix} id`);

/** An ISO 8601 timestamp (any offset) in, epoch milliseconds out. */
export const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => Date.parse(s))
  .refine((ms) => Number.isFinite(ms), "must be a valid date and time");

export const currency = z
  .string()
  .regex(/^[a-z]{3}$/, "must be a lowercase ISO 4217 code such as 'eur'")
  .refine((c) => Intl.supportedValuesOf("currency").includes(c.toUpperCase()), "is not an ISO 4217 currency");

export const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as 'Europe/Paris'");

/** A short human-facing label: no control characters, trimmed, non-empty. */
export const label = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters");

export const seatLabel = label(32);
