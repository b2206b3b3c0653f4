/**
 * Outbox messages are applied in their order: when a ticket's insert and its voiding travel in one
 * batch (the insert's first send failed), the ticket must end void, never valid.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { type OutboxMessage, projectionStatements } from "../src/db/projections";
import { NEVER_SCANNED } from "../src/domain/sales/tickets";
import { createEvent } from "./helpers";

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
