/** Racing scanners: every ticket is admitted exactly once, whatever the interleaving. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { eventWithTickets, newScanner, scan } from "./door";
import { auditActions } from "./helpers";

it("5 scanners scan 100 tickets twice each, all at once: 100 admitted, 100 refused as duplicates", async () => {
  const { event, tickets } = await eventWithTickets(100);
  const scanners = await Promise.all(Array.from({ length: 5 }, (_, i) => newScanner(event.id, { name: `Door ${i}` })));
  const attempts = tickets.flatMap((ticket, i) => [
    { ticket, scanner: scanners[i % 5] },
    { ticket, scanner: scanners[(i + 2) % 5] },
  ]);
  const answers = await Promise.all(
    attempts.map(async ({ ticket, scanner }) => ({
      ticketId: ticket.id,
      res: await scan(scanner?.token as string, ticket.code),
    })),
  );

  const admittedPerTicket = new Map<string, number>();
  for (const { ticketId, res } of answers) {
    expect([200, 409]).toContain(res.status);
    if (res.status === 200) {
      expect(res.body.result).toBe("admitted");
      admittedPerTicket.set(ticketId, (admittedPerTicket.get(ticketId) ?? 0) + 1);
    } else {
      expect(res.body.code).toBe("ALREADY_CHECKED_IN");
    }
  }
  expect(admittedPerTicket.size).toBe(100);
  expect([...admittedPerTicket.values()].every((n) => n === 1)).toBe(true);
  expect(answers.filter((a) => a.res.status === 409)).toHaveLength(100);

  const rows = await env.DB.prepare("SELECT status, count(*) AS n FROM tickets WHERE event_id = ? GROUP BY status")
    .bind(event.id)
    .all<{ status: string; n: number }>();
  expect(rows.results).toEqual([{ status: "checked_in", n: 100 }]);
  const scans = await env.DB.prepare("SELECT result, count(*) AS n FROM checkins WHERE event_id = ? GROUP BY result")
    .bind(event.id)
    .all<{ result: string; n: number }>();
  expect(scans.results).toEqual([
    { result: "admitted", n: 100 },
    { result: "duplicate", n: 100 },
  ]);
  expect(await auditActions(event.id, "checkin.admitted")).toHaveLength(100);
  expect(await auditActions(event.id, "checkin.rejected")).toHaveLength(100);
});

it("10 scanners scan one ticket at the same instant: exactly one admission", async () => {
  const { event, tickets } = await eventWithTickets(1);
  const ticket = tickets[0] as { id: string; code: string };
  const scanners = await Promise.all(Array.from({ length: 10 }, (_, i) => newScanner(event.id, { gate: `g${i}` })));
  const answers = await Promise.all(scanners.map((s) => scan(s.token, ticket.code)));

  const admitted = answers.filter((r) => r.status === 200);
  expect(admitted).toHaveLength(1);
  const winner = scanners[answers.indexOf(admitted[0] as (typeof answers)[number])];
  for (const refused of answers.filter((r) => r.status !== 200)) {
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: "ALREADY_CHECKED_IN",
      scannerId: winner?.id,
      gate: winner?.gate,
      firstCheckedInAt: admitted[0]?.body.checkedInAt,
    });
  }
  expect(await auditActions(event.id, "checkin.admitted")).toHaveLength(1);
});

it("an exit racing a re-entry: the ticket ends in the state of the scans that won, never admitted twice", async () => {
  const { event, tickets } = await eventWithTickets(1);
  const ticket = tickets[0] as { id: string; code: string };
  const [a, b, c] = await Promise.all([newScanner(event.id), newScanner(event.id), newScanner(event.id)]);
  expect((await scan(a?.token as string, ticket.code)).status).toBe(200);
  const [out, inB, inC] = await Promise.all([
    scan(a?.token as string, ticket.code, { direction: "out" }),
    scan(b?.token as string, ticket.code),
    scan(c?.token as string, ticket.code),
  ]);
  expect(out.status).toBe(200);
  // After the exit at most one of the two entries gets in; before it, both are duplicates.
  const entered = [inB, inC].filter((r) => r.status === 200);
  expect(entered.length).toBeLessThanOrEqual(1);
  for (const r of [inB, inC]) if (r.status !== 200) expect(r.body.code).toBe("ALREADY_CHECKED_IN");
  const row = await env.DB.prepare("SELECT status FROM tickets WHERE id = ?")
    .bind(ticket.id)
    .first<{ status: string }>();
  expect(row?.status).toBe(entered.length === 1 ? "checked_in" : "valid");
});
