/** The offline cache of a scanner: every ticket of its event with its door status, paged. */
import { describe, expect, it } from "vitest";
import { eventWithTickets, newScanner, scan, secondsFromNow, uploadBatch } from "./door";
import { ADMIN_TOKEN, api } from "./helpers";

interface Entry {
  id: string;
  tierId: string;
  status: string;
  updatedAt: string;
}

async function wholeList(eventId: string, token: string, query: Record<string, string> = {}) {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) });
    const res = await api("GET", `/v1/events/${eventId}/checkin-list?${params}`, { token });
    expect(res.status).toBe(200);
    entries.push(...res.body.tickets);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor);
  return { entries, pages };
}

describe("checkin-list", () => {
  it("pages through every ticket once, and `since` gives what changed", async () => {
    const { event, tickets, tierId } = await eventWithTickets(25);
    const scanner = await newScanner(event.id);

    const all = await wholeList(event.id, scanner.token, { limit: "10" });
    expect(all.pages).toBe(3);
    expect(all.entries.map((e) => e.id).sort()).toEqual(tickets.map((t) => t.id).sort());
    expect(all.entries.every((e) => e.status === "valid" && e.tierId === tierId)).toBe(true);
    const newest = all.entries
      .map((e) => e.updatedAt)
      .sort()
      .at(-1) as string;

    // `since` is inclusive: asking since the newest time held gives those tickets again, nothing older.
    const same = await wholeList(event.id, scanner.token, { since: newest });
    expect(same.entries.length).toBeGreaterThan(0);
    expect(same.entries.every((e) => e.updatedAt === newest)).toBe(true);

    const admitted = tickets.slice(0, 3);
    for (const t of admitted) expect((await scan(scanner.token, t.code)).status).toBe(200);
    const exited = tickets[3] as { id: string; code: string };
    const batch = await uploadBatch(scanner.token, [
      { nonce: "in", code: exited.code, scannedAt: secondsFromNow(-20) },
      { nonce: "out", code: exited.code, scannedAt: secondsFromNow(-10), direction: "out" },
      { nonce: "late", code: tickets[4]?.code as string, scannedAt: secondsFromNow(-3600) },
    ]);
    expect(batch.status).toBe(200);
    const changed = await wholeList(event.id, scanner.token, { since: newest });
    const fresh = changed.entries.filter((e) => e.updatedAt !== newest);
    expect(fresh.map((e) => [e.id, e.status]).sort()).toEqual(
      [...admitted.map((t) => [t.id, "checked_in"]), [tickets[4]?.id, "checked_in"], [exited.id, "valid"]].sort(),
    );
    // A change is always stamped later than any before it, even one dated an hour back by its device.
    expect(fresh.every((e) => e.updatedAt > newest)).toBe(true);
    // The organiser can read it too.
    const asOrganiser = await wholeList(event.id, ADMIN_TOKEN, { limit: "1000" });
    expect(asOrganiser.entries).toHaveLength(25);
  });

  it("is for the event's scanners and the organiser only", async () => {
    const { event } = await eventWithTickets(1);
    const other = await eventWithTickets(1);
    const foreign = await newScanner(other.event.id);
    const path = `/v1/events/${event.id}/checkin-list`;
    expect((await api("GET", path)).status).toBe(401);
    const forbidden = await api("GET", path, { token: foreign.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe("FORBIDDEN");
    expect((await api("GET", `${path}?cursor=nonsense`, { token: ADMIN_TOKEN })).body.code).toBe("INVALID_INPUT");
    expect((await api("GET", `${path}?since=yesterday`, { token: ADMIN_TOKEN })).body.code).toBe("INVALID_INPUT");
    expect((await api("GET", `${path}?limit=0`, { token: ADMIN_TOKEN })).body.code).toBe("INVALID_INPUT");
    const unknown = await api("GET", "/v1/events/evt_0000000000000000000000/checkin-list", { token: ADMIN_TOKEN });
    expect(unknown.status).toBe(404);
  });
});
