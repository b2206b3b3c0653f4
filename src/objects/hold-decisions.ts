/**
 * Decisions about holds: taking capacity for a reservation, activating a multi-tier part, following
 * the lead tier, extending and releasing. Each runs inside the object's `transactionSync`.
 */

import { type RequestContext, SYSTEM } from "../db/audit";
import type { ReservationRow, TierRow } from "../db/schema";
import { invalid, isLive, type Ledger, notFound, termsOf } from "./ledger";
import type { ActivateRequest, HeldPart, HoldRequest, LeadDecision, Refusal, Result } from "./tier-rpc";
import type { Hold } from "./tier-store";

/** How long a part of a multi-tier reservation may wait, held, for its siblings' answers. */
const PENDING_TTL_MS = 60_000;

function salesOpen(row: TierRow, now: number): boolean {
  return (row.salesStartAt === null || now >= row.salesStartAt) && (row.salesEndAt === null || now < row.salesEndAt);
}

export function decideHold(l: Ledger, req: HoldRequest, now: number): Result<HeldPart> {
  const state = l.state(false);
  const { row } = state;
  const existing = l.store.hold(req.reservationId);
  if (existing) {
    if (!isLive(existing)) {
      return {
        ok: false,
        code: "RESERVATION_NOT_ACTIVE",
        detail: "The reservation is no longer held",
        reservationStatus: existing.status,
      };
    }
    return { ok: true, ...l.partOf(existing, row), reservation: l.store.header(req.reservationId) };
  }
  const seated = row.kind === "seated";
  if (req.seats && !seated)
    return invalid("items", `tier '${row.name}' is general admission: give a quantity, not seats`);
  const quantity = req.seats?.length ?? req.quantity;
  if (quantity > row.maxPerOrder) {
    return {
      ok: false,
      code: "TOO_MANY_TICKETS",
      detail: `Tier '${row.name}' allows at most ${row.maxPerOrder} tickets per order`,
      tierId: row.id,
      limit: row.maxPerOrder,
    };
  }
  const unknown = req.seats ? l.store.unknownSeats(req.seats) : [];
  if (unknown.length > 0) return invalid("items", `tier '${row.name}' has no seats ${unknown.join(", ")}`);
  // Bad input is refused as such before the sales window and availability are looked at.
  if (!salesOpen(row, now)) {
    return { ok: false, code: "SALES_CLOSED", detail: `Tier '${row.name}' is not on sale now`, tierId: row.id };
  }

  let seats: string[] | null = null;
  if (seated && req.seats) {
    const taken = l.store.takenSeats(req.seats);
    if (taken.length > 0) {
      return {
        ok: false,
        code: "SEAT_UNAVAILABLE",
        detail: `Seats ${taken.join(", ")} of tier '${row.name}' are held or sold`,
        tierId: row.id,
        seats: taken,
      };
    }
    seats = req.seats;
  } else {
    const available = row.capacity - state.held - state.sold;
    if (quantity > available) {
      return {
        ok: false,
        code: "SOLD_OUT",
        detail: `Tier '${row.name}' has ${available} of the ${quantity} requested tickets left`,
        tierId: row.id,
        available,
      };
    }
    if (seated) seats = l.store.firstAvailableSeats(quantity);
  }

  const single = req.header !== null;
  const terms = termsOf(row);
  const expiresAt = now + (single ? terms.holdSeconds * 1000 : PENDING_TTL_MS);
  const hold: Hold = {
    reservationId: req.reservationId,
    leadTierId: req.leadTierId,
    quantity,
    seats,
    status: single ? "active" : "pending",
    expiresAt,
  };
  l.store.insertHold(hold, now);
  l.store.adjustHeld(quantity);
  if (seats) l.store.setSeats(seats, "held", req.reservationId);
  // A best-available pick is listed in the reservation (and so on its tickets) as the seats it took.
  const header = req.header && {
    ...req.header,
    items: req.header.items.map((item) => (item.tierId === row.id && seats ? { ...item, seats } : item)),
  };
  const reservation = header ? l.openHeader(header, terms, expiresAt, now, req.ctx) : null;
  return { ok: true, ...l.partOf(hold, row), reservation };
}

export function activatePart(l: Ledger, req: ActivateRequest, now: number): Result<HeldPart> {
  const hold = l.store.hold(req.reservationId);
  if (!hold || !isLive(hold)) {
    return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation lapsed before every tier confirmed it" };
  }
  if (hold.status === "pending") l.store.setHold(req.reservationId, "active", req.expiresAt, now);
  let reservation = l.store.header(req.reservationId);
  if (req.header && !reservation) {
    const { terms, ...init } = req.header;
    reservation = l.openHeader(init, terms, req.expiresAt, now, req.ctx);
  }
  return { ok: true, ...l.partOf(hold, l.state(false).row), reservation };
}

/**
 * Applies what the reservation's lead tier decided to this tier's part (idempotent). Sent to the
 * lead itself by a rollback, it also ends the reservation there, should the lead have opened it.
 */
export function followLead(l: Ledger, decision: LeadDecision, now: number): void {
  const hold = l.store.hold(decision.reservationId);
  if (decision.status === "active") {
    if (hold && isLive(hold)) l.store.setHold(hold.reservationId, "active", decision.expiresAt, now);
    return;
  }
  if (hold) l.endHold(hold, decision.status, now);
  const header = l.store.header(decision.reservationId);
  if (header?.status === "active") {
    l.changeHeader(header, { status: decision.status }, now, `reservation.${decision.status}`, SYSTEM);
  }
}

type HeaderResult = Result<{ reservation: ReservationRow }>;

/** Runs a lead-tier change on an active reservation; a lapsed one is expired first. */
export function onActiveHeader(
  l: Ledger,
  reservationId: string,
  now: number,
  change: (header: ReservationRow) => HeaderResult,
  options: { alreadyReleasedIsOk?: boolean } = {},
): HeaderResult {
  const header = l.store.header(reservationId);
  if (!header) return notFound("reservation", reservationId);
  if (header.status === "released" && options.alreadyReleasedIsOk) return { ok: true, reservation: header };
  const refusal: Refusal | null = l.unlessActive(header, now);
  return refusal ?? change(header);
}

export function extendHeader(l: Ledger, header: ReservationRow, now: number, ctx: RequestContext): HeaderResult {
  const hold = l.store.hold(header.id);
  if (!hold || !isLive(hold)) {
    l.changeHeader(header, { status: "expired" }, now, "reservation.expired", SYSTEM);
    return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation's hold has lapsed" };
  }
  if (header.extensionsUsed >= header.maxExtensions) {
    return {
      ok: false,
      code: "EXTENSION_LIMIT",
      detail: `The reservation has used all ${header.maxExtensions} extensions`,
    };
  }
  const reservation = l.changeHeader(
    header,
    { expiresAt: header.expiresAt + header.extensionSeconds * 1000, extensionsUsed: header.extensionsUsed + 1 },
    now,
    "reservation.extended",
    ctx,
  );
  l.store.setHold(header.id, "active", reservation.expiresAt, now);
  return { ok: true, reservation };
}

export function releaseHeader(l: Ledger, header: ReservationRow, now: number, ctx: RequestContext): HeaderResult {
  const hold = l.store.hold(header.id);
  if (hold) l.endHold(hold, "released", now);
  return { ok: true, reservation: l.changeHeader(header, { status: "released" }, now, "reservation.released", ctx) };
}
