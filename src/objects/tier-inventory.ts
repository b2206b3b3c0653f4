/**
 * TierInventory: one Durable Object per tier, the only place the tier's capacity is decided.
 *
 * Every decision (hold, activate, release, extend, expire, capacity change) is one synchronous
 * `transactionSync` over the object's SQLite: check and write with no `await` between, so no
 * other request can interleave. The same transaction queues the decision's D1 writes in the
 * outbox, which is sent after the decision and retried by the alarm until it lands.
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { createDb } from "../db/client";
import type { OutboxMessage } from "../db/projections";
import { events, type OrderRow, type ReservationRow, type TierRow, tiers } from "../db/schema";
import { auditRow, type RequestContext, SYSTEM } from "../domain/audit";
import { tierObject } from "../domain/tier-objects";
import { toIsoOrNull } from "../lib/time";
import { LIMITS } from "../schemas/events";
import { Outbox, RETRY_DELAY_MS } from "./outbox";
import { StripeTasks, type TaskOutcome } from "./stripe-tasks";
import type {
  ActivateRequest,
  CheckoutRequest,
  CompleteRequest,
  HeldPart,
  HoldRequest,
  HoldTerms,
  LeadDecision,
  Refusal,
  Result,
  SellRequest,
  TierSnapshot,
  UpdateTierRequest,
} from "./tier-rpc";
import { migrate } from "./tier-schema";
import { type Hold, type TierState, TierStore } from "./tier-store";

/** How long a part of a multi-tier reservation may wait, held, for its siblings' answers. */
export const PENDING_TTL_MS = 60_000;
const EXPIRY_CHUNK = 500;
const MAX_EXPIRY_ROUNDS = 20;
/** How soon a follower asks its lead again about a reservation the lead says is about to lapse. */
const RECHECK_MS = 5_000;
/** How often messages D1 refused even on their own are tried again. */
const POISON_RETRY_MS = 60_000;

const termsOf = (row: TierRow): HoldTerms => ({
  holdSeconds: row.holdSeconds,
  maxExtensions: row.maxExtensions,
  extensionSeconds: row.extensionSeconds,
});

const auditId = (subjectId: string, version: number | string) => `aud_${subjectId}_${version}`;

function salesOpen(row: TierRow, now: number): boolean {
  return (row.salesStartAt === null || now >= row.salesStartAt) && (row.salesEndAt === null || now < row.salesEndAt);
}

export class TierInventory extends DurableObject<Env> {
  private readonly store: TierStore;
  private readonly outbox: Outbox;
  private readonly tasks: StripeTasks;
  /** The alarm this object has set (mirrors storage, read once at start). */
  private alarmAt: number | null = null;
  /** The tier this object owns, once known. */
  private owner: { tierId: string; eventId: string } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TierStore(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql, env.DB);
    this.tasks = new StripeTasks(ctx.storage.sql, env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrate(ctx.storage.sql));
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- RPC: buyers' holds ----------------------------------------------------------------------

  async reserve(req: HoldRequest): Promise<Result<HeldPart>> {
    if (!(await this.loaded(req.tierId, req.eventId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync(() => this.decideHold(req, Date.now()));
    if (result.ok) await this.settleCreation(result.reservation);
    return result;
  }

  async activate(req: ActivateRequest): Promise<Result<HeldPart>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync((): Result<HeldPart> => {
      const now = Date.now();
      const hold = this.store.hold(req.reservationId);
      if (!hold || !isLive(hold)) {
        return {
          ok: false,
          code: "RESERVATION_EXPIRED",
          detail: "The reservation lapsed before every tier confirmed it",
        };
      }
      if (hold.status === "pending") this.store.setHold(req.reservationId, "active", req.expiresAt, now);
      let reservation = this.store.header(req.reservationId);
      if (req.header && !reservation) {
        const { terms, ...init } = req.header;
        reservation = this.openHeader(init, terms, req.expiresAt, now, req.ctx);
      }
      return { ok: true, ...this.partOf(hold, this.state(false).row), reservation };
    });
    if (result.ok) await this.settleCreation(result.reservation);
    return result;
  }

  /**
   * Applies what the reservation's lead tier decided to this tier's part (idempotent). Sent to the
   * lead itself by a rollback, it also ends the reservation there, should the lead have opened it.
   */
  async follow(tierId: string, decision: LeadDecision): Promise<void> {
    if (!(await this.loaded(tierId))) return;
    this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const hold = this.store.hold(decision.reservationId);
      if (decision.status === "active") {
        if (hold && isLive(hold)) this.store.setHold(hold.reservationId, "active", decision.expiresAt, now);
        return;
      }
      if (hold) this.endHold(hold, decision.status, now);
      const header = this.store.header(decision.reservationId);
      if (header?.status === "active") {
        this.changeHeader(header, { status: decision.status }, now, `reservation.${decision.status}`, SYSTEM);
      }
    });
    await this.settle();
  }

  async extend(
    tierId: string,
    reservationId: string,
    ctx: RequestContext,
  ): Promise<Result<{ reservation: ReservationRow }>> {
    return this.onHeader(tierId, reservationId, (header, now) => {
      const hold = this.store.hold(reservationId);
      if (!hold || !isLive(hold)) {
        this.changeHeader(header, { status: "expired" }, now, "reservation.expired", SYSTEM);
        return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation's hold has lapsed" };
      }
      if (header.extensionsUsed >= header.maxExtensions) {
        return {
          ok: false,
          code: "EXTENSION_LIMIT",
          detail: `The reservation has used all ${header.maxExtensions} extensions`,
        };
      }
      const reservation = this.changeHeader(
        header,
        {
          expiresAt: header.expiresAt + header.extensionSeconds * 1000,
          extensionsUsed: header.extensionsUsed + 1,
        },
        now,
        "reservation.extended",
        ctx,
      );
      this.store.setHold(reservationId, "active", reservation.expiresAt, now);
      return { ok: true, reservation };
    });
  }

  async release(
    tierId: string,
    reservationId: string,
    ctx: RequestContext,
  ): Promise<Result<{ reservation: ReservationRow }>> {
    return this.onHeader(
      tierId,
      reservationId,
      (header, now) => {
        const hold = this.store.hold(reservationId);
        if (hold) this.endHold(hold, "released", now);
        return {
          ok: true,
          reservation: this.changeHeader(header, { status: "released" }, now, "reservation.released", ctx),
        };
      },
      { alreadyReleasedIsOk: true },
    );
  }

  // ---- RPC: checkout and sale --------------------------------------------------------------------

  /** The lead tier opens the order for its reservation, once: asked again, it returns that order. */
  async startCheckout(req: CheckoutRequest): Promise<Result<{ order: OrderRow; created: boolean }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ order: OrderRow; created: boolean }> => {
      const now = Date.now();
      const existing = this.store.orderOfReservation(req.reservationId);
      if (existing) return { ok: true, order: existing, created: false };
      const header = this.store.header(req.reservationId);
      if (!header) return { ok: false, code: "NOT_FOUND", detail: `No reservation '${req.reservationId}'` };
      const refusal = this.unlessActive(header, now);
      if (refusal) return refusal;
      const order: OrderRow = {
        ...req.order,
        eventId: header.eventId,
        reservationId: header.id,
        leadTierId: header.leadTierId,
        status: "pending_payment",
        stripeSessionId: null,
        checkoutUrl: null,
        paymentIntentId: null,
        version: 1,
        createdAt: now,
        updatedAt: now,
        paidAt: null,
      };
      this.store.putOrder(order);
      this.outbox.enqueue([{ kind: "order", row: order }]);
      this.changeHeader(header, { status: "checkout" }, now, "checkout.started", req.ctx, {
        orderId: order.id,
        amount: order.amount,
        currency: order.currency,
      });
      return { ok: true, order, created: true };
    });
    if (result.ok) await this.settleOrFail(result.created);
    return result;
  }

  /** Records the payment session of an order (idempotent). */
  async attachSession(
    tierId: string,
    orderId: string,
    session: { id: string; url: string | null },
  ): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ order: OrderRow }> => {
      const order = this.store.order(orderId);
      if (!order) return { ok: false, code: "NOT_FOUND", detail: `No order '${orderId}'` };
      if (order.stripeSessionId === session.id) return { ok: true, order };
      return {
        ok: true,
        order: this.changeOrder(order, { stripeSessionId: session.id, checkoutUrl: session.url }, Date.now()),
      };
    });
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  /**
   * Sells this tier's part of a paid order and issues its tickets (idempotent). A part whose hold
   * lapsed before the payment landed takes its capacity again if it is there; if it is not, the
   * refusal tells the Worker to refund.
   */
  async sell(req: SellRequest): Promise<Result<{ late: boolean }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ late: boolean }> => {
      const now = Date.now();
      const hold = this.store.hold(req.reservationId);
      if (hold?.status === "sold") return { ok: true, late: false };
      const order = this.store.orderOfReservation(req.reservationId);
      if (order?.status === "canceled" || order?.status === "refunded") {
        return {
          ok: false,
          code: "RESERVATION_NOT_ACTIVE",
          detail: "The order was closed without tickets",
          status: order.status,
        };
      }
      const late = !hold || !isLive(hold);
      const quantity = hold?.quantity ?? req.tickets.length;
      const seats = hold?.seats ?? null;
      if (late) {
        const { row, held, sold } = this.state(false);
        const taken = seats ? this.store.takenSeats(seats) : [];
        if (taken.length > 0) {
          return {
            ok: false,
            code: "SEAT_UNAVAILABLE",
            detail: "The seats were sold meanwhile",
            tierId: row.id,
            seats: taken,
          };
        }
        const available = row.capacity - held - sold;
        if (!seats && quantity > available) {
          return { ok: false, code: "SOLD_OUT", detail: "The capacity was sold meanwhile", tierId: row.id, available };
        }
      } else {
        this.store.adjustHeld(-quantity);
      }
      if (hold) this.store.setHold(req.reservationId, "sold", hold.expiresAt, now);
      this.store.adjustSold(quantity);
      if (seats) this.store.setSeats(seats, "sold", req.reservationId);
      this.outbox.enqueue(req.tickets.map((row) => ({ kind: "ticket", row })));
      return { ok: true, late };
    });
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  /** The lead tier marks the order paid once every tier has sold its part (idempotent). */
  async completeOrder(req: CompleteRequest): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ order: OrderRow }> => {
      const now = Date.now();
      const order = this.store.order(req.orderId);
      if (!order) return { ok: false, code: "NOT_FOUND", detail: `No order '${req.orderId}'` };
      if (order.status === "paid") return { ok: true, order };
      const paid = this.changeOrder(order, { status: "paid", paymentIntentId: req.paymentIntentId, paidAt: now }, now);
      const header = this.store.header(order.reservationId);
      if (header && header.status !== "completed")
        this.changeHeader(header, { status: "completed" }, now, null, req.ctx);
      const tickets = paid.items.reduce((n, i) => n + i.quantity, 0);
      this.outbox.enqueue([
        this.orderAudit(paid, "order.paid", req.ctx, { amount: paid.amount, currency: paid.currency, late: req.late }),
        this.orderAudit(paid, "tickets.issued", req.ctx, { count: tickets }),
        ...(req.late ? [this.orderAudit(paid, "payment.late", req.ctx, { outcome: "tickets_issued" })] : []),
      ]);
      return { ok: true, order: paid };
    });
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  /**
   * The payment will not come (its session expired or the payment failed): the lead tier releases
   * the reservation and closes the order. An order already paid is left alone (events arrive in any
   * order).
   */
  async cancelCheckout(
    tierId: string,
    orderId: string,
    status: "expired" | "canceled",
    ctx: RequestContext,
  ): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ order: OrderRow }> => {
      const now = Date.now();
      const order = this.store.order(orderId);
      if (!order) return { ok: false, code: "NOT_FOUND", detail: `No order '${orderId}'` };
      if (order.status !== "pending_payment") return { ok: true, order };
      const hold = this.store.hold(order.reservationId);
      if (hold) this.endHold(hold, "released", now);
      const header = this.store.header(order.reservationId);
      if (header?.status === "checkout" || header?.status === "active") {
        this.changeHeader(header, { status: "released" }, now, "reservation.released", ctx, { reason: status });
      }
      return { ok: true, order: this.changeOrder(order, { status }, now) };
    });
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  /** Gives back a part sold for an order that ends up refunded instead (idempotent). */
  async unsell(tierId: string, reservationId: string, ticketIds: string[]): Promise<void> {
    if (!(await this.loaded(tierId))) return;
    this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const hold = this.store.hold(reservationId);
      if (hold?.status !== "sold") return;
      this.store.setHold(reservationId, "released", hold.expiresAt, now);
      this.store.adjustSold(-hold.quantity);
      if (hold.seats) this.store.setSeats(hold.seats, "available", null);
      this.outbox.enqueue([{ kind: "ticketStatus", ids: ticketIds, status: "void", at: now }]);
    });
    await this.settleOrFail(true);
  }

  /**
   * A payment landed that cannot get its tickets (its hold lapsed and the capacity is gone, or the
   * order was closed): the lead tier closes the order and refunds the payment, once, however often
   * the payment is reported. The refund is attempted before answering and retried until it lands.
   */
  async refuseLatePayment(
    tierId: string,
    orderId: string,
    paymentIntentId: string,
    ctx: RequestContext,
  ): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ order: OrderRow }> => {
      const now = Date.now();
      const order = this.store.order(orderId);
      if (!order) return { ok: false, code: "NOT_FOUND", detail: `No order '${orderId}'` };
      const task = { kind: "refund", orderId, paymentIntentId, amount: order.amount, reason: "late_payment" } as const;
      if (order.status === "paid" || order.status === "refunded" || this.tasks.has(task)) return { ok: true, order };
      this.tasks.enqueue(task, now);
      const closed = this.changeOrder(order, { status: "canceled", paymentIntentId }, now);
      this.outbox.enqueue([this.orderAudit(closed, "payment.late", ctx, { outcome: "refund", amount: order.amount })]);
      return { ok: true, order: closed };
    });
    if (result.ok) {
      await this.settleOrFail(true);
      await this.runTasks();
    }
    return result.ok ? { ok: true, order: this.store.order(orderId) ?? result.order } : result;
  }

  // ---- RPC: reads and organiser changes ---------------------------------------------------------

  async snapshot(tierId: string): Promise<Result<TierSnapshot>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const state = this.state(true);
    return {
      ok: true,
      tier: state.row,
      currency: state.currency,
      held: state.held,
      sold: state.sold,
      available: state.row.capacity - state.held - state.sold,
      seats: state.row.kind === "seated" ? this.store.seatStates() : null,
      now: Date.now(),
    };
  }

  async updateTier(req: UpdateTierRequest): Promise<Result<{ tier: TierRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ tier: TierRow }> => {
      const state = this.state(true);
      const { row } = state;
      const { patch } = req;
      const committed = state.held + state.sold;
      const seated = row.kind === "seated";
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

      const now = Date.now();
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
      if (added.length > 0) this.store.addSeats(added, this.store.seatCount());
      this.store.updateTier(next);
      this.outbox.enqueue([
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
      return { ok: true, tier: next };
    });
    if (result.ok) await this.settle();
    return result;
  }

  /** Checks the object's own bookkeeping: the held counter equals the holds that take capacity. */
  async selfCheck(
    tierId: string,
  ): Promise<Result<{ held: number; heldByHolds: number; sold: number; capacity: number; outboxPoisoned: number }>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const { capacity, held, sold } = this.store.counters();
    return {
      ok: true,
      held,
      heldByHolds: this.store.heldByHolds(),
      sold,
      capacity,
      outboxPoisoned: this.outbox.poisoned(),
    };
  }

  // ---- alarm: expiry and outbox retries --------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const tierId = this.store.tier(false)?.row.id;
    if (tierId) {
      const now = Date.now();
      for (let round = 0; round < MAX_EXPIRY_ROUNDS; round++) {
        const due = this.store.dueHolds(now, EXPIRY_CHUNK);
        const leads = await this.askLeads(tierId, due);
        this.ctx.storage.transactionSync(() => {
          for (const seen of due) {
            const hold = this.store.hold(seen.reservationId);
            // Asking the leads opened the input gate: skip a hold that changed meanwhile.
            if (!hold || hold.status !== seen.status || hold.expiresAt !== seen.expiresAt) continue;
            const lead = leads.get(hold.reservationId);
            if (lead === "unreachable") this.store.setHold(hold.reservationId, "active", now + RETRY_DELAY_MS, now);
            else if (lead === undefined || lead === null || lead.status === "expired") this.expire(hold, now);
            else if (lead.status === "released") this.endHold(hold, "released", now);
            // The lead says active: adopt its expiry (if it is about to lapse, ask again shortly).
            else this.store.setHold(hold.reservationId, "active", Math.max(lead.expiresAt, now + RECHECK_MS), now);
          }
        });
        if (due.length < EXPIRY_CHUNK) break;
      }
    }
    await this.settle();
    await this.runTasks();
    if ((await this.outbox.retryPoisoned()) > 0) await this.armAlarm(Date.now() + POISON_RETRY_MS);
  }

  /** Runs the Stripe calls that are due; each outcome is a decision of its own, sent to D1. */
  private async runTasks(): Promise<void> {
    await this.tasks.run(Date.now(), (outcome) => this.ctx.storage.transactionSync(() => this.taskDone(outcome)));
    await this.settle();
  }

  private taskDone(outcome: TaskOutcome): void {
    if (outcome.kind !== "refund") return;
    const order = this.store.order(outcome.orderId);
    if (!order || order.status === "refunded") return;
    const refunded = this.changeOrder(order, { status: "refunded" }, Date.now());
    this.outbox.enqueue([
      this.orderAudit(refunded, "order.refunded", SYSTEM, {
        refundId: outcome.refundId,
        amount: outcome.amount,
        reason: "late_payment",
      }),
    ]);
  }

  /** The lead tier's view of a reservation, for a follower whose part is due. */
  async leadDecision(tierId: string, reservationId: string): Promise<LeadDecision | null> {
    if (!(await this.loaded(tierId))) return null;
    const header = this.store.header(reservationId);
    if (!header) return null;
    const now = Date.now();
    const live = header.status === "active" || header.status === "checkout";
    const status = live ? (header.expiresAt <= now ? "expired" : "active") : header.status;
    if (status !== "active" && status !== "released" && status !== "expired") return null;
    return { reservationId, status, expiresAt: header.expiresAt };
  }

  /**
   * Before a follower's part expires, it asks the reservation's lead tier: an extension or release
   * the Worker could not pass on (it died in between) is then applied here all the same.
   */
  private async askLeads(tierId: string, due: Hold[]): Promise<Map<string, LeadDecision | null | "unreachable">> {
    const followed = due.filter((h) => h.status === "active" && h.leadTierId !== tierId);
    const answers = await Promise.allSettled(
      followed.map((h) => tierObject(this.env, h.leadTierId).leadDecision(h.leadTierId, h.reservationId)),
    );
    const decisions = new Map<string, LeadDecision | null | "unreachable">();
    answers.forEach((answer, i) => {
      const hold = followed[i] as Hold;
      if (answer.status === "fulfilled") decisions.set(hold.reservationId, answer.value);
      else {
        // The lead is the authority: never expire a part on our own clock while it cannot be asked.
        decisions.set(hold.reservationId, "unreachable");
        console.error(
          JSON.stringify({ msg: "lead tier unreachable; asking again", hold, error: String(answer.reason) }),
        );
      }
    });
    return decisions;
  }

  // ---- decisions (synchronous: call only inside transactionSync) --------------------------------

  private decideHold(req: HoldRequest, now: number): Result<HeldPart> {
    const state = this.state(false);
    const { row } = state;
    const existing = this.store.hold(req.reservationId);
    if (existing) {
      if (!isLive(existing)) {
        return {
          ok: false,
          code: "RESERVATION_NOT_ACTIVE",
          detail: "The reservation is no longer held",
          status: existing.status,
        };
      }
      return { ok: true, ...this.partOf(existing, row), reservation: this.store.header(req.reservationId) };
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
    if (req.totalQuantity > state.eventMaxPerOrder) {
      return {
        ok: false,
        code: "TOO_MANY_TICKETS",
        detail: `This event allows at most ${state.eventMaxPerOrder} tickets per order`,
        tierId: row.id,
        limit: state.eventMaxPerOrder,
      };
    }

    const unknown = req.seats ? this.store.unknownSeats(req.seats) : [];
    if (unknown.length > 0) return invalid("items", `tier '${row.name}' has no seats ${unknown.join(", ")}`);
    // Bad input is refused as such before the sales window and availability are looked at.
    if (!salesOpen(row, now)) {
      return { ok: false, code: "SALES_CLOSED", detail: `Tier '${row.name}' is not on sale now`, tierId: row.id };
    }

    let seats: string[] | null = null;
    if (seated && req.seats) {
      const taken = this.store.takenSeats(req.seats);
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
      if (seated) seats = this.store.firstAvailableSeats(quantity);
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
    this.store.insertHold(hold, now);
    this.store.adjustHeld(quantity);
    if (seats) this.store.setSeats(seats, "held", req.reservationId);
    const reservation = req.header ? this.openHeader(req.header, terms, expiresAt, now, req.ctx) : null;
    return { ok: true, ...this.partOf(hold, row), reservation };
  }

  private openHeader(
    init: HoldRequest["header"] & object,
    terms: HoldTerms,
    expiresAt: number,
    now: number,
    ctx: RequestContext,
  ): ReservationRow {
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
  private changeHeader(
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

  private reservationAudit(
    header: ReservationRow,
    action: string,
    ctx: RequestContext,
    extra: Record<string, unknown> = {},
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

  /** Runs a lead-tier operation on an active reservation header; a lapsed one is expired first. */
  private async onHeader(
    tierId: string,
    reservationId: string,
    change: (header: ReservationRow, now: number) => Result<{ reservation: ReservationRow }>,
    options: { alreadyReleasedIsOk?: boolean } = {},
  ): Promise<Result<{ reservation: ReservationRow }>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.ctx.storage.transactionSync((): Result<{ reservation: ReservationRow }> => {
      const now = Date.now();
      const header = this.store.header(reservationId);
      if (!header) return { ok: false, code: "NOT_FOUND", detail: `No reservation '${reservationId}'` };
      if (header.status === "released" && options.alreadyReleasedIsOk) return { ok: true, reservation: header };
      const refusal = this.unlessActive(header, now);
      if (refusal) return refusal;
      return change(header, now);
    });
    await this.settle();
    return result;
  }

  /** Refuses unless the reservation is active and in time; a lapsed one is expired on the spot. */
  private unlessActive(header: ReservationRow, now: number): Refusal | null {
    if ((header.status === "active" || header.status === "checkout") && header.expiresAt <= now) {
      const hold = this.store.hold(header.id);
      if (hold) this.expire(hold, now);
      return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation's hold has lapsed" };
    }
    if (header.status === "expired") {
      return { ok: false, code: "RESERVATION_EXPIRED", detail: "The reservation's hold has lapsed" };
    }
    if (header.status !== "active") {
      return {
        ok: false,
        code: "RESERVATION_NOT_ACTIVE",
        detail: `The reservation is ${header.status}`,
        status: header.status,
      };
    }
    return null;
  }

  /**
   * A hold's time has come: return its capacity and, where this tier leads, expire the reservation
   * and any order still waiting for its payment.
   */
  private expire(hold: Hold, now: number): void {
    this.endHold(hold, "expired", now);
    const header = this.store.header(hold.reservationId);
    if (header?.status !== "active" && header?.status !== "checkout") return;
    this.changeHeader(header, { status: "expired" }, now, "reservation.expired", SYSTEM);
    const order = this.store.orderOfReservation(header.id);
    if (order?.status !== "pending_payment") return;
    this.changeOrder(order, { status: "expired" }, now);
    // Stripe keeps the session open longer than our hold: close it so the buyer cannot pay late.
    if (order.stripeSessionId)
      this.tasks.enqueue({ kind: "expireSession", orderId: order.id, sessionId: order.stripeSessionId }, now);
  }

  private changeOrder(order: OrderRow, change: Partial<OrderRow>, now: number): OrderRow {
    const next: OrderRow = { ...order, ...change, version: order.version + 1, updatedAt: now };
    this.store.putOrder(next);
    this.outbox.enqueue([{ kind: "order", row: next }]);
    return next;
  }

  private orderAudit(
    order: OrderRow,
    action: string,
    ctx: RequestContext,
    data: Record<string, unknown>,
  ): OutboxMessage {
    return {
      kind: "audit",
      row: auditRow(ctx, {
        id: auditId(order.id, `${order.version}-${action}`),
        eventId: order.eventId,
        at: order.updatedAt,
        action,
        subject: { type: "order", id: order.id },
        data,
      }),
    };
  }

  /** Ends a hold that takes capacity (and only such a hold: ending one twice must not count twice). */
  private endHold(hold: Hold, status: "released" | "expired", now: number): void {
    if (!isLive(hold)) return;
    this.store.setHold(hold.reservationId, status, hold.expiresAt, now);
    this.store.adjustHeld(-hold.quantity);
    if (hold.seats) this.store.setSeats(hold.seats, "available", null);
  }

  private partOf(hold: Hold, row: TierRow): Omit<HeldPart, "reservation"> {
    return { quantity: hold.quantity, seats: hold.seats, terms: termsOf(row) };
  }

  private state(withSeats: boolean): TierState {
    const state = this.store.tier(withSeats);
    if (!state) throw new Error("TierInventory used before it was loaded");
    return state;
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /**
   * Makes sure the object knows its tier. A new object copies it once from D1 (written there by
   * tier creation) under `blockConcurrencyWhile`; from then on this object owns the tier.
   */
  private async loaded(tierId: string, eventId?: string): Promise<boolean> {
    if (!this.owner) {
      let state = this.store.tier(false);
      if (!state) {
        await this.ctx.blockConcurrencyWhile(async () => {
          if (this.store.tier(false)) return;
          const found = await createDb(this.env.DB)
            .select({ tier: tiers, currency: events.currency, eventMaxPerOrder: events.maxTicketsPerOrder })
            .from(tiers)
            .innerJoin(events, eq(events.id, tiers.eventId))
            .where(eq(tiers.id, tierId))
            .get();
          if (found) {
            this.ctx.storage.transactionSync(() =>
              this.store.initTier(found.tier, found.currency, found.eventMaxPerOrder),
            );
          }
        });
        state = this.store.tier(false);
      }
      if (!state) return false;
      // A tier's id and event never change: remember them rather than read them on every call.
      this.owner = { tierId: state.row.id, eventId: state.row.eventId };
    }
    if (this.owner.tierId !== tierId)
      throw new Error(`TierInventory for ${this.owner.tierId} was asked about ${tierId}`);
    return eventId === undefined || this.owner.eventId === eventId;
  }

  private unknownTier(tierId: string): Refusal {
    return { ok: false, code: "NOT_FOUND", detail: `No tier '${tierId}' in this event` };
  }

  /**
   * After a decision. Called straight after `transactionSync`, so the alarm write below is
   * registered in the same turn and commits with the decision: no hold is ever left without an
   * alarm. Then the decision's D1 writes are sent; a failed send re-arms the alarm to retry.
   * Returns whether everything reached D1.
   */
  private async settle(): Promise<boolean> {
    const expiry = this.store.nextExpiry();
    const task = this.tasks.nextAt();
    await this.armAlarm(expiry === null ? task : task === null ? expiry : Math.min(expiry, task));
    try {
      await this.outbox.flush();
      return true;
    } catch (error) {
      console.error(JSON.stringify({ msg: "outbox send failed; the alarm will retry", error: String(error) }));
      await this.armAlarm(Date.now() + RETRY_DELAY_MS);
      return false;
    }
  }

  /**
   * A new reservation is answered only once its D1 record exists, so that a `201` can always be
   * read back. Otherwise the caller gets a server fault; the hold stands (its expiry is armed)
   * and a retry with the same Idempotency-Key converges on it.
   */
  private async settleCreation(opened: ReservationRow | null): Promise<void> {
    await this.settleOrFail(opened !== null);
  }

  /** Settles; when `mustLand`, a decision whose D1 writes did not land is answered as a server fault. */
  private async settleOrFail(mustLand: boolean): Promise<void> {
    if (!(await this.settle()) && mustLand) {
      throw new Error("the decision is made but its D1 records are not written yet; the alarm retries them");
    }
  }

  private async armAlarm(at: number | null): Promise<void> {
    if (at === null || (this.alarmAt !== null && this.alarmAt <= at)) return;
    this.alarmAt = at;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (error) {
      this.alarmAt = null; // unknown: the next decision sets it again
      throw error;
    }
  }
}

/** The change as the API speaks it: times as ISO strings. */
function withIsoTimes(patch: UpdateTierRequest["patch"]): Record<string, unknown> {
  const { salesStartAt, salesEndAt, ...rest } = patch;
  return {
    ...rest,
    ...(salesStartAt === undefined ? {} : { salesStartAt: toIsoOrNull(salesStartAt) }),
    ...(salesEndAt === undefined ? {} : { salesEndAt: toIsoOrNull(salesEndAt) }),
  };
}

/** A hold that takes capacity. */
const isLive = (hold: Hold) => hold.status === "pending" || hold.status === "active";

function invalid(path: string, message: string): Refusal {
  return { ok: false, code: "INVALID_INPUT", detail: "The request is not valid", errors: [{ path, message }] };
}
