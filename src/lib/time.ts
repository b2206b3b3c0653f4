/** The API speaks ISO 8601 UTC strings; storage keeps epoch milliseconds. */
export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

/** Formatters by time zone: making one costs far more than formatting with it (every ticket e-mail formats). */
const startFormats = new Map<string, Intl.DateTimeFormat>();

/** An event's start in its own time zone, as a person reads it: "Tuesday, 1 June 2027 at 21:30 (Europe/Paris)". */
export function eventStartText(startsAt: number | string, timezone: string): string {
  let format = startFormats.get(timezone);
  if (!format) {
    // Made first, so a time zone Intl refuses throws here as before and is never remembered.
    format = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: timezone });
    if (startFormats.size >= 64) startFormats.clear(); // a few zones in practice; never unbounded
    startFormats.set(timezone, format);
  }
  return `${format.format(new Date(startsAt))} (${timezone})`;
}
