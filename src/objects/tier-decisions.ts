/** Organiser changes to a tier, decided by its object: capacity never below what is sold or held. */

import { auditRow } from "../db/audit";
import type { TierRow } from "../db/schema";
import { soldOutMessage } from "../db/webhook-messages";
import { amountProblem } from "../lib/stripe-limits";
import { toIsoOrNull } from "../lib/time";
import { LIMITS } from "../schemas/events";
import { auditId, invalid, type Ledger } from "./ledger";
import type { Result, UpdateTierRequest } from "./tier-rpc";

/** The change as the API speaks it: times as ISO strings. */
function withIsoTimes(patch: UpdateTierRequest["patch"]): Record<string, unknown> {
  const { salesStartAt, salesEndAt, ...rest } = patch;
  return {
    ...rest,
    ...(salesStartAt === undefined ? {} : { salesStartAt: toIsoOrNull(salesStartAt) }),
    ...(salesEndAt === undefined ? {} : { salesEndAt: toIsoOrNull(salesEndAt) }),
  };
}

export function updateTier(l: Ledger, req: UpdateTierRequest, now: number): Result<{ tier: TierRow }> {
  const state = l.state(true);
  const { row } = state;
  const { patch } = req;
  const committed = state.held + state.sold;
  const seated = row.kind === "seated";
  const priceProblem = patch.price === undefined ? null : amountProblem(state.currency, patch.price);
  if (priceProblem) return invalid("price", priceProblem);
  if (patch.capacity !== undefined && seated) {
    return invalid("capacity", "a seated tier's capacity is its number of seats: use addSeats");
  }
  if (patch.addSeats !== undefined && !seated) {
    return invalid("addSeats", "a general-admission tier has no seats: change capacity");
  }
  if (patch.capacity !== undefined && patch.capacity < committed) {
    return {
      ok: false,
      code: "CAPACITY_BELOW_COMMITTED",
      detail: `Tier '${row.name}' has ${committed} tickets sold or held; capacity cannot go below that`,
      tierId: row.id,
      committed,
    };
  }
  const existingSeats = new Set(row.seats ?? []);
  const clashing = (patch.addSeats ?? []).filter((s) => existingSeats.has(s));
  if (clashing.length > 0) return invalid("addSeats", `already seats of this tier: ${clashing.join(", ")}`);
  if (row.capacity + (patch.addSeats?.length ?? 0) > LIMITS.maxSeats) {
    return invalid("addSeats", `a seated tier has at most ${LIMITS.maxSeats} seats`);
  }
  const salesStartAt = patch.salesStartAt === undefined ? row.salesStartAt : patch.salesStartAt;
  const salesEndAt = patch.salesEndAt === undefined ? row.salesEndAt : patch.salesEndAt;
  if (salesStartAt !== null && salesEndAt !== null && salesStartAt >= salesEndAt) {
    return invalid("salesEndAt", "must be after salesStartAt");
  }

  const added = patch.addSeats ?? [];
  const next: TierRow = {
    ...row,
    name: patch.name ?? row.name,
    price: patch.price ?? row.price,
    capacity: seated ? row.capacity + added.length : (patch.capacity ?? row.capacity),
    seats: seated ? [...(row.seats ?? []), ...added] : null,
    salesStartAt,
    salesEndAt,
    holdSeconds: patch.holdSeconds ?? row.holdSeconds,
    version: row.version + 1,
    updatedAt: now,
  };
  if (added.length > 0) l.store.addSeats(added, l.store.seatCount());
  l.store.updateTier(next);
  l.outbox.enqueue([
    { kind: "tier", row: next },
    {
      kind: "audit",
      row: auditRow(req.ctx, {
        id: auditId(row.id, next.version),
        eventId: row.eventId,
        at: now,
        action: "tier.updated",
        subject: { type: "tier", id: row.id },
        data: { changes: withIsoTimes(patch), capacity: next.capacity },
      }),
    },
  ]);
  // Capacity lowered to what is sold: the tier is sold out from this change on.
  if (next.capacity <= state.sold && row.capacity > state.sold) {
    l.webhook(soldOutMessage(next, state.sold, next.version, now));
  }
  return { ok: true, tier: next };
}
