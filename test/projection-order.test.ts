/**
 * How outbox messages land in D1: in their order where it matters (when a ticket's insert and its voiding
 * travel in one batch, the ticket must end void, never valid), a table's rows in one statement whatever
 * the kinds' interleaving, and rows too big for one parameter in more than one.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { auditRow } from "../src/db/audit";
import { type OutboxMessage, projectionStatements } from "../src/db/projections";
import { NEVER_SCANNED } from "../src/domain/sales/tickets";
import { createEvent } from "./helpers";

/** An audit entry as the outbox carries it. */
function auditMessage(id: string, eventId: string, at: number, data: Record<string, unknown>): OutboxMessage {
  const ctx = { requestId: "req_projection", actor: { type: "system" as const }, ip: null, userAgent: null };
  return {
    kind: "audit",
    row: auditRow(ctx, { id, eventId, at, action: "test.entry", subject: { type: "test", id }, data }),
  };
}

it("a ticket inserted then voided in one outbox batch ends void", async () => {
  const event = await createEvent([{ capacity: 5 }]);
  const tierId = event.tiers[0]?.id as string;
  const now = Date.now();
  const id = "tkt_ProjectionOrder00000001";
  const messages: OutboxMessage[] = [
    {
      kind: "ticket",
      row: {
        id,
        orderId: "ord_ProjectionOrder0000000",
        eventId: event.id,
        tierId,
        seat: null,
        code: "v1.test.code.sig",
        status: "valid",
        createdAt: now,
        updatedAt: now,
        ...NEVER_SCANNED,
      },
    },
    { kind: "ticketStatus", ids: [id], status: "void", at: now + 1 },
  ];
  await env.DB.batch(projectionStatements(env.DB, messages));
  const row = await env.DB.prepare("SELECT status FROM tickets WHERE id = ?").bind(id).first<{ status: string }>();
  expect(row?.status).toBe("void");
});

it("a batch that alternates tables lands whole, a newer version winning whatever its place, in one statement a table", async () => {
  const event = await createEvent([{ capacity: 5 }]);
  const tierId = event.tiers[0]?.id as string;
  const now = Date.now();
  const reservation = (n: number, version: number): OutboxMessage => ({
    kind: "reservation",
    row: {
      id: `rsv_ProjectionBatch${String(n).padStart(8, "0")}`,
      eventId: event.id,
      leadTierId: tierId,
      sessionId: null,
      tokenHash: `hash-${n}`,
      status: version === 1 ? "active" : "released",
      items: [{ tierId, quantity: 1, seats: ["A1"] }],
      expiresAt: now + 60_000,
      extensionsUsed: 0,
      maxExtensions: 2,
      extensionSeconds: 300,
      version,
      createdAt: now,
      updatedAt: now + version,
    },
  });
  const audit = (n: number) => auditMessage(`aud_ProjectionBatch${n}`, event.id, now, { n });
  // 40 holds, each its row then its audit entry; reservation 0's release (version 2) comes before its
  // creation (version 1) in the batch, as a retry can send them.
  const messages: OutboxMessage[] = [reservation(0, 2)];
  for (let n = 0; n < 40; n++) messages.push(reservation(n, 1), audit(n));
  const statements = projectionStatements(env.DB, messages);
  expect(statements).toHaveLength(2);
  await env.DB.batch(statements);
  const rows = await env.DB.prepare(
    "SELECT id, status, version, items FROM reservations WHERE event_id = ? ORDER BY id",
  )
    .bind(event.id)
    .all<{ id: string; status: string; version: number; items: string }>();
  expect(rows.results).toHaveLength(40);
  expect(rows.results[0]).toMatchObject({ status: "released", version: 2 });
  expect(rows.results.slice(1).every((r) => r.status === "active" && r.version === 1)).toBe(true);
  expect(JSON.parse(rows.results[1]?.items as string)).toEqual([{ tierId, quantity: 1, seats: ["A1"] }]);
  const audits = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM audit_log WHERE id LIKE 'aud_ProjectionBatch%'",
  ).first<{ n: number }>();
  expect(audits?.n).toBe(40);
});

it("rows too big for one parameter go in more statements, and all land", async () => {
  const event = await createEvent([{ capacity: 5 }]);
  const now = Date.now();
  const big = "x".repeat(200_000);
  const messages = Array.from({ length: 4 }, (_, n) => auditMessage(`aud_ProjectionBig${n}`, event.id, now, { big }));
  const statements = projectionStatements(env.DB, messages);
  expect(statements).toHaveLength(2); // 500,000 characters a parameter: two rows of 200,000 each
  await env.DB.batch(statements);
  const rows = await env.DB.prepare(
    "SELECT id, data FROM audit_log WHERE id LIKE 'aud_ProjectionBig%' ORDER BY id",
  ).all<{
    id: string;
    data: string;
  }>();
  expect(rows.results.map((r) => r.id)).toEqual([0, 1, 2, 3].map((n) => `aud_ProjectionBig${n}`));
  expect(JSON.parse(rows.results[3]?.data as string)).toEqual({ big });
});
