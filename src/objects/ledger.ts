/**
 * The bookkeeping every decision of a TierInventory object shares: its SQLite (`store`), what it
 * must send to D1 (`outbox`) and to Stripe (`tasks`), and the recurring moves (open, change and
 * expire a reservation; change an order; end a hold). Synchronous throughout: call it only inside
 * the object's `transactionSync`.
 */

import { auditRow, type RequestContext, SYSTEM } from "../db/audit";
import type { OutboxMessage } from "../db/projections";
import { statusAt } from "../db/reservation-status";
import type { OrderRow, ReservationRow, TierRow, WebhookMessageRow } from "../db/schema";
import { orderMessage } from "../db/webhook-messages";
import type { Outbox } from "./outbox";
import type { StripeTasks } from "./stripe-tasks";
import type { HeaderInit, HeldPart, HoldTerms, Refusal } from "./tier-rpc";
import type { Hold, TierState, TierStore } from "./tier-store";

/** A hold that takes capacity. */
export const isLive = (hold: Hold) => hold.status === "pending" || hold.status === "active";

export const termsOf = (row: TierRow): HoldTerms => ({
  holdSeconds: row.holdSeconds,
  maxExtensions: row.maxExtensions,
  extensionSeconds: row.extensionSeconds,
});

/** Audit ids derive from the subject and its version, so an entry sent twice is written once. */
export const auditId = (subjectId: string, version: number | string) => `aud_${subjectId}_${version}`;

export function invalid(path: string, message: string): Refusal {
  return { ok: false, code: "INVALID_INPUT", detail: "The request is not valid", errors: [{ path, message }] };
}

export const notFound = (what: string, id: string): Refusal => ({
  ok: false,
  code: "NOT_FOUND",
  detail: `No ${what} '${id}'`,
});

export class Ledger {
  constructor(
    readonly store: TierStore,
    readonly outbox: Outbox,
    readonly tasks: StripeTasks,
  ) {}

  state(withSeats: boolean): TierState {
    const state = this.store.tier(withSeats);
    if (!state) throw new Error("TierInventory used before it was loaded");
    return state;
  }

  partOf(hold: Hold, row: TierRow): Omit<HeldPart, "reservation"> {
    return { quantity: hold.quantity, seats: hold.seats, terms: termsOf(row) };
  }

  openHeader(init: HeaderInit, terms: HoldTerms, expiresAt: number, now: number, ctx: RequestContext): ReservationRow {
    const header: ReservationRow = {
      ...init,
      status: "active",
      expiresAt,
      extensionsUsed: 0,
      maxExtensions: terms.maxExtensions,
      extensionSeconds: terms.extensionSeconds,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.store.putHeader(header);
    this.outbox.enqueue([
      { kind: "reservation", row: header },
      this.reservationAudit(header, "reservation.created", ctx, { sessionId: header.sessionId }),
    ]);
    return header;
  }

  /** Changes the reservation and queues its D1 row and (unless `action` is null) its audit entry. */
  changeHeader(
    header: ReservationRow,
    change: Partial<Pick<ReservationRow, "status" | "expiresAt" | "extensionsUsed">>,
    now: number,
    action: string | null,
    ctx: RequestContext,
    extra: Record<string, unknown> = {},
  ): ReservationRow {
    const next: ReservationRow = { ...header, ...change, version: header.version + 1, updatedAt: now };
    this.store.putHeader(next);
    this.outbox.enqueue([{ kind: "reservation", row: next }]);
    if (action) this.outbox.enqueue([this.reservationAudit(next, action, ctx, extra)]);
    return next;
  }

  /**
   * Changes the order and queues its D1 row, and the webhook message the change reports (every change
   * of an order passes here, so none can forget its message: src/db/webhook-messages.ts).
   */
  changeOrder(order: OrderRow, change: Partial<OrderRow>, now: number, refund = false): OrderRow {
    const next: OrderRow = { ...order, ...change, version: order.version + 1, updatedAt: now };
    this.store.putOrder(next);
    this.outbox.enqueue([{ kind: "order", row: next }]);
    const message = orderMessage(order, next, refund);
    if (message) this.webhook(message);
    return next;
  }

  /** Queues a message to the organiser's systems, written to D1 with the decision's other records. */
  webhook(row: WebhookMessageRow): void {
    this.outbox.enqueue([{ kind: "webhook", row }]);
  }

  auditOrder(order: OrderRow, action: string, ctx: RequestContext, data: Record<string, unknown>): void {
    this.outbox.enqueue([
      {
        kind: "audit",
        row: auditRow(ctx, {
          id: auditId(order.id, `${order.version}-${action}`),
          eventId: order.eventId,
          at: order.updatedAt,
          action,
          subject: { type: "order", id: order.id },
          data,
        }),
      },
    ]);
  }

  /** Ends a hold that takes capacity (and only such a hold: ending one twice must not count twice). */
  endHold(hold: Hold, status: "released" | "expired", now: number): void {
    if (!isLive(hold)) return;
    this.store.setHold(hold.reservationId, status, hold.expiresAt, now);
    this.store.adjustHeld(-hold.quantity);
    if (hold.seats) this.store.setSeats(hold.seats, "available", null);
  }

  /**
   * A hold's time has come: return its capacity and, where this tier leads, expire the reservation
   * and any order still waiting for its payment.
   */
  expire(hold: Hold, now: number): void {
    this.endHold(hold, "expired", now);
    const header = this.store.header(hold.reservationId);
    if (header?.status !== "active" && header?.status !== "checkout") return;
    this.changeHeader(header, { status: "expired" }, now, "reservation.expired", SYSTEM);
    const order = this.store.orderOfReservation(header.id);
    if (order?.status !== "pending_payment") return;
    this.changeOrder(order, { status: "expired" }, now);
    // Stripe keeps the session open longer than our hold: close it so the buyer cannot pay late.
    if (order.stripeSessionId) {
      this.tasks.enqueue({ kind: "expireSession", orderId: order.id, sessionId: order.stripeSessionId }, now);
    }
  }

  /** Refuses unless the reservation is active and in time; a lapsed one is expired on the spot. */
  unlessActive(header: ReservationRow, now: number): Refusal | null {
    const status = statusAt(header, now);
    if (status === "expired") {
      // Lapsed but perhaps not recorded yet (the alarm may run late): record it now (idempotent).
      const hold = this.store.hold(header.id);
      if (hold) this.expire(hold, now);
      return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation's hold has lapsed" };
    }
    if (status !== "active") {
      return {
        ok: false,
        code: "RESERVATION_NOT_ACTIVE",
        detail: `The reservation is ${header.status}`,
        reservationStatus: header.status,
      };
    }
    return null;
  }

  private reservationAudit(
    header: ReservationRow,
    action: string,
    ctx: RequestContext,
    extra: Record<string, unknown>,
  ): OutboxMessage {
    return {
      kind: "audit",
      row: auditRow(ctx, {
        id: auditId(header.id, header.version),
        eventId: header.eventId,
        at: header.updatedAt,
        action,
        subject: { type: "reservation", id: header.id },
        data: {
          items: header.items,
          expiresAt: new Date(header.expiresAt).toISOString(),
          extensionsRemaining: header.maxExtensions - header.extensionsUsed,
          ...extra,
        },
      }),
    };
  }
}
