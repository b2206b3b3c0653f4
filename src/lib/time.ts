/** The API speaks ISO 8601 UTC strings; storage keeps epoch milliseconds. */
export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

/** An event's start in its own time zone, as a person reads it: "Tuesday, 1 June 2027 at 21:30 (Europe/Paris)". */
export function eventStartText(startsAt: number | string, timezone: string): string {
  const when = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: timezone }).format(
    new Date(startsAt),
  );
  return `${when} (${timezone})`;
}
