/** Offline scanners upload what they scanned: processed once per nonce, applied in `scannedAt` order. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventWithTickets, newScanner, type OfflineScan, scan, secondsFromNow, uploadBatch } from "./door";
import { ADMIN_TOKEN, api, auditActions } from "./helpers";

async function ticketState(id: string) {
  return env.DB.prepare("SELECT status, first_checked_in_at, checkin_gate FROM tickets WHERE id = ?")
    .bind(id)
    .first<{ status: string; first_checked_in_at: number | null; checkin_gate: string | null }>();
}

describe("offline batches", () => {
  it("answer each scan of a mixed batch: valid, repeated, forged, void, foreign and unknown", async () => {
    const { event, tickets } = await eventWithTickets(3);
    const other = await eventWithTickets(1);
    const scanner = await newScanner(event.id, { gate: "east" });
    const [t0, t1, t2] = tickets as { id: string; code: string }[];
    await env.DB.prepare("UPDATE tickets SET status = 'void' WHERE id = ?").bind(t2?.id).run();
    const forged = `${t1?.code.slice(0, -3)}${t1?.code.endsWith("AAA") ? "BBB" : "AAA"}`;

    const res = await uploadBatch(scanner.token, [
      { nonce: "n1", code: t0?.code as string, scannedAt: secondsFromNow(-60) },
      { nonce: "n2", code: t0?.code as string, scannedAt: secondsFromNow(-50) },
      { nonce: "n3", code: forged, scannedAt: secondsFromNow(-40) },
      { nonce: "n4", code: t2?.code as string, scannedAt: secondsFromNow(-30) },
      { nonce: "n5", code: other.tickets[0]?.code as string, scannedAt: secondsFromNow(-20) },
      { nonce: "n6", code: t1?.code as string, scannedAt: secondsFromNow(-10), direction: "out" },
      { nonce: "n7", code: "not a code", scannedAt: secondsFromNow(-5) },
    ]);
    expect(res.status).toBe(200);
    const firstIn = res.body.results[0].firstCheckedInAt;
    expect(res.body.results).toEqual([
      { nonce: "n1", result: "admitted", conflict: false, ticketId: t0?.id, firstCheckedInAt: firstIn },
      { nonce: "n2", result: "duplicate", conflict: true, ticketId: t0?.id, firstCheckedInAt: firstIn },
      { nonce: "n3", result: "invalid", conflict: false },
      { nonce: "n4", result: "void", conflict: true, ticketId: t2?.id },
      { nonce: "n5", result: "wrong_event", conflict: false, ticketId: other.tickets[0]?.id },
      { nonce: "n6", result: "duplicate", conflict: false, ticketId: t1?.id },
      { nonce: "n7", result: "invalid", conflict: false },
    ]);
    // The admission is dated when the device scanned, not when it uploaded.
    expect(Date.parse(firstIn)).toBeLessThan(Date.now() - 55_000);
    expect(await ticketState(t0?.id as string)).toEqual({
      status: "checked_in",
      first_checked_in_at: Date.parse(firstIn),
      checkin_gate: "east",
    });
    expect((await ticketState(t1?.id as string))?.status).toBe("valid");
    expect(await auditActions(event.id, "checkin.admitted")).toHaveLength(1);
    expect(await auditActions(event.id, "checkin.rejected")).toHaveLength(6);
  });

  it("a replayed nonce returns its first result and changes nothing", async () => {
    const { event, tickets } = await eventWithTickets(1);
    const ticket = tickets[0] as { id: string; code: string };
    const scanner = await newScanner(event.id);
    const scans: OfflineScan[] = [
      { nonce: "a", code: ticket.code, scannedAt: secondsFromNow(-30) },
      { nonce: "b", code: ticket.code, scannedAt: secondsFromNow(-20), direction: "out" },
    ];
    const first = await uploadBatch(scanner.token, scans);
    expect(first.body.results.map((r: { result: string }) => r.result)).toEqual(["admitted", "exited"]);

    // The device did not hear the answer and sends it all again, once more, and with a repeat inside.
    const [again, once] = await Promise.all([
      uploadBatch(scanner.token, scans),
      uploadBatch(scanner.token, [...scans, scans[0] as OfflineScan]),
    ]);
    expect(again.body).toEqual(first.body);
    expect(once.body.results).toEqual([...first.body.results, first.body.results[0]]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM checkins WHERE ticket_id = ?")
      .bind(ticket.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(2);
    expect((await ticketState(ticket.id))?.status).toBe("valid");
    expect(await auditActions(event.id, "checkin.admitted")).toHaveLength(1);
  });

  it("flags an offline admission of a ticket that was already inside", async () => {
    const { event, tickets } = await eventWithTickets(1);
    const ticket = tickets[0] as { id: string; code: string };
    const online = await newScanner(event.id, { gate: "main" });
    const offline = await newScanner(event.id, { gate: "side" });
    const admitted = await scan(online.token, ticket.code);
    expect(admitted.status).toBe(200);

    const res = await uploadBatch(offline.token, [{ nonce: "x1", code: ticket.code, scannedAt: secondsFromNow(0) }]);
    expect(res.body.results).toEqual([
      {
        nonce: "x1",
        result: "duplicate",
        conflict: true,
        ticketId: ticket.id,
        firstCheckedInAt: admitted.body.checkedInAt,
      },
    ]);
    const rejected = await api("GET", `/v1/events/${event.id}/audit?action=checkin.rejected`, { token: ADMIN_TOKEN });
    expect(rejected.body.entries[0]).toMatchObject({
      actor: { type: "scanner", id: offline.id },
      data: { conflict: true, offline: true, gate: "side", result: "duplicate" },
    });
  });

  it("applies scans in scannedAt order, within a batch and across devices that upload late", async () => {
    const { event, tickets } = await eventWithTickets(2);
    const [t0, t1] = tickets as { id: string; code: string }[];
    const deviceA = await newScanner(event.id, { gate: "a" });
    const deviceB = await newScanner(event.id, { gate: "b" });

    // Sent out of order: the exit happened last, the two entries before it.
    const inOneBatch = await uploadBatch(deviceA.token, [
      { nonce: "3", code: t0?.code as string, scannedAt: secondsFromNow(-10), direction: "out" },
      { nonce: "1", code: t0?.code as string, scannedAt: secondsFromNow(-30) },
      { nonce: "2", code: t0?.code as string, scannedAt: secondsFromNow(-20) },
    ]);
    expect(inOneBatch.body.results.map((r: { result: string; conflict: boolean }) => [r.result, r.conflict])).toEqual([
      ["exited", false],
      ["admitted", false],
      ["duplicate", true],
    ]);
    expect((await ticketState(t0?.id as string))?.status).toBe("valid");

    // Device A scanned t1 at -20 s and uploads first; device B scanned it at -40 s and uploads later.
    const fromA = await uploadBatch(deviceA.token, [
      { nonce: "a1", code: t1?.code as string, scannedAt: secondsFromNow(-20) },
    ]);
    expect(fromA.body.results[0]).toMatchObject({ result: "admitted", conflict: false });
    const fromB = await uploadBatch(deviceB.token, [
      { nonce: "b1", code: t1?.code as string, scannedAt: secondsFromNow(-40) },
    ]);
    // In scannedAt order B's scan came first: it is the admission, and A's becomes the flagged one.
    expect(fromB.body.results[0]).toMatchObject({ result: "admitted", conflict: false });
    expect(Date.parse(fromB.body.results[0].firstCheckedInAt)).toBeLessThan(
      Date.parse(fromA.body.results[0].firstCheckedInAt),
    );
    const rows = await env.DB.prepare(
      "SELECT scanner_id, result, conflict, flagged FROM checkins WHERE ticket_id = ? ORDER BY scanned_at",
    )
      .bind(t1?.id)
      .all();
    expect(rows.results).toEqual([
      { scanner_id: deviceB.id, result: "admitted", conflict: 0, flagged: 0 },
      { scanner_id: deviceA.id, result: "admitted", conflict: 0, flagged: 1 },
    ]);
    expect(await ticketState(t1?.id as string)).toMatchObject({ status: "checked_in", checkin_gate: "b" });
    const conflicts = await api("GET", `/v1/events/${event.id}/audit?action=checkin.conflict`, { token: ADMIN_TOKEN });
    expect(conflicts.body.entries).toHaveLength(1);
    expect(conflicts.body.entries[0]).toMatchObject({
      subject: { type: "ticket", id: t1?.id },
      data: { flagged: true },
    });

    // A replay of A's nonce still answers what A was told.
    const replayA = await uploadBatch(deviceA.token, [
      { nonce: "a1", code: t1?.code as string, scannedAt: secondsFromNow(-20) },
    ]);
    expect(replayA.body.results[0]).toMatchObject({ result: "admitted", conflict: false });
  });

  it("an online admission that a late upload shows was the second entry is flagged", async () => {
    const { event, tickets } = await eventWithTickets(1);
    const ticket = tickets[0] as { id: string; code: string };
    const online = await newScanner(event.id);
    const offline = await newScanner(event.id);
    expect((await scan(online.token, ticket.code)).status).toBe(200);
    const late = await uploadBatch(offline.token, [
      { nonce: "early", code: ticket.code, scannedAt: secondsFromNow(-120) },
    ]);
    expect(late.body.results[0]).toMatchObject({ result: "admitted", conflict: false });
    const flagged = await env.DB.prepare(
      "SELECT offline, flagged FROM checkins WHERE ticket_id = ? ORDER BY scanned_at",
    )
      .bind(ticket.id)
      .all();
    expect(flagged.results).toEqual([
      { offline: 1, flagged: 0 },
      { offline: 0, flagged: 1 },
    ]);
  });

  it("refuse bad input and bodies out of bounds, accepting 500 scans beyond the 64 KiB body limit", async () => {
    const { event, tickets } = await eventWithTickets(1);
    const scanner = await newScanner(event.id);
    const code = tickets[0]?.code as string;
    const scan1 = { nonce: "n", code, scannedAt: secondsFromNow(-1) };
    for (const body of [
      { scans: [] },
      { scans: [{ ...scan1, scannedAt: "yesterday" }] },
      { scans: [{ ...scan1, nonce: "" }] },
      { scans: [{ ...scan1, direction: "sideways" }] },
      { scans: [{ ...scan1, extra: 1 }] },
      { scans: Array.from({ length: 501 }, (_, i) => ({ ...scan1, nonce: `n${i}` })) },
    ]) {
      const res = await api("POST", "/v1/checkins/batch", { token: scanner.token, body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("INVALID_INPUT");
    }
    const full = Array.from({ length: 500 }, (_, i) => ({
      ...scan1,
      nonce: `nonce-${i}-${"x".repeat(40)}`,
      direction: i % 2 === 0 ? "in" : "out",
    }));
    expect(JSON.stringify({ scans: full }).length).toBeGreaterThan(64 * 1024);
    const res = await api("POST", "/v1/checkins/batch", { token: scanner.token, body: { scans: full } });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(500);
    expect(res.body.results[0]).toMatchObject({ result: "admitted", conflict: false });
    expect(res.body.results[1]).toMatchObject({ result: "exited", conflict: false });
    expect((await ticketState(tickets[0]?.id as string))?.status).toBe("valid");
  });
});

it("a batch racing online scanners on the same tickets: each ticket has one admission that stands", async () => {
  const { event, tickets } = await eventWithTickets(40);
  const online = await Promise.all([newScanner(event.id), newScanner(event.id)]);
  const offline = await newScanner(event.id);
  const [batch, ...answers] = await Promise.all([
    uploadBatch(
      offline.token,
      tickets.map((t, i) => ({ nonce: `race-${i}`, code: t.code, scannedAt: secondsFromNow(0) })),
    ),
    ...tickets.map((t, i) => scan((online[i % 2] as { token: string }).token, t.code)),
  ]);
  expect(batch.status).toBe(200);
  for (const res of answers) expect([200, 409]).toContain(res.status);
  const standing = await env.DB.prepare(
    `SELECT ticket_id, count(*) AS n FROM checkins
     WHERE event_id = ? AND result = 'admitted' AND flagged = 0 GROUP BY ticket_id`,
  )
    .bind(event.id)
    .all<{ ticket_id: string; n: number }>();
  expect(standing.results).toHaveLength(40);
  expect(standing.results.every((r) => r.n === 1)).toBe(true);
  const states = await env.DB.prepare("SELECT DISTINCT status FROM tickets WHERE event_id = ?").bind(event.id).all();
  expect(states.results).toEqual([{ status: "checked_in" }]);
  // Every scan is recorded once: 40 from the batch, 40 online.
  const recorded = await env.DB.prepare(
    "SELECT offline, count(*) AS n FROM checkins WHERE event_id = ? GROUP BY offline",
  )
    .bind(event.id)
    .all();
  expect(recorded.results).toEqual([
    { offline: 0, n: 40 },
    { offline: 1, n: 40 },
  ]);
});

it("a revoked scanner's batch is refused whole; a device clock reset to 1970 rewrites no history", async () => {
  const { event, tickets } = await eventWithTickets(1);
  const ticket = tickets[0] as { id: string; code: string };
  const revoked = await newScanner(event.id);
  expect((await api("DELETE", `/v1/scanners/${revoked.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
  const refused = await uploadBatch(revoked.token, [{ nonce: "r", code: ticket.code, scannedAt: secondsFromNow(-5) }]);
  expect(refused.status).toBe(401);

  const door = await newScanner(event.id);
  expect((await scan(door.token, ticket.code)).status).toBe(200);
  const old = await uploadBatch(door.token, [
    { nonce: "epoch", code: ticket.code, scannedAt: "1970-01-01T00:00:01.000Z", direction: "out" },
  ]);
  expect(old.body.results[0]).toMatchObject({ result: "duplicate", conflict: false });
  const row = await env.DB.prepare("SELECT status FROM tickets WHERE id = ?").bind(ticket.id).first();
  expect(row).toEqual({ status: "checked_in" });
  const count = await env.DB.prepare("SELECT count(*) AS n FROM checkins WHERE event_id = ?").bind(event.id).first();
  expect(count).toEqual({ n: 2 });
});
