/**
 * TierInventory: one Durable Object per tier, the only place the tier's capacity is decided.
 *
 * Every decision (hold, activate, release, extend, expire, sell, capacity change) is one
 * synchronous `transactionSync` over the object's SQLite: check and write with no `await` between,
 * so no other request can interleave. The same transaction queues the decision's D1 writes in the
 * outbox (and any Stripe call in its task queue), which are sent after the decision and retried by
 * the alarm until they land. The decisions themselves live in hold-, sale- and tier-decisions.ts;
 * this class is the object's entry points, its alarm, and the plumbing around each decision.
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import type { RequestContext } from "../db/audit";
import { createDb } from "../db/client";
import { statusAt } from "../db/reservation-status";
import { events, type OrderRow, type TierRow, tiers } from "../db/schema";
import { activatePart, decideHold, extendHeader, followLead, onActiveHeader, releaseHeader } from "./hold-decisions";
import { Ledger } from "./ledger";
import { Outbox, RETRY_DELAY_MS } from "./outbox";
import { flagDispute, recordRefund, refundTickets } from "./refund-decisions";
import {
  attachSession,
  cancelCheckout,
  claimFulfilment,
  completeOrder,
  refusePayment,
  sellPart,
  startCheckout,
  taskDone,
  unsellPart,
} from "./sale-decisions";
import { StripeTasks } from "./stripe-tasks";
import { tierObject } from "./tier-client";
import { updateTier } from "./tier-decisions";
import type {
  ActivateRequest,
  CheckoutRequest,
  CompleteRequest,
  DisputeRequest,
  HeldPart,
  HoldRequest,
  LeadDecision,
  RecordRefundRequest,
  RefundTicketsRequest,
  Refusal,
  RefusePaymentRequest,
  Result,
  SellRequest,
  TierSnapshot,
  UpdateTierRequest,
} from "./tier-rpc";
import { hasSchema, migrate } from "./tier-schema";
import { type Hold, type TierCounters, TierStore } from "./tier-store";

const EXPIRY_CHUNK = 500;
const MAX_EXPIRY_ROUNDS = 20;
/** How soon a follower asks its lead again about a reservation the lead says is about to lapse. */
const RECHECK_MS = 5_000;
/** How often messages D1 refused even on their own are tried again. */
const POISON_RETRY_MS = 60_000;

export class TierInventory extends DurableObject<Env> {
  private readonly store: TierStore;
  private readonly outbox: Outbox;
  private readonly tasks: StripeTasks;
  private readonly ledger: Ledger;
  /** The alarm this object has set (mirrors storage, read once at start). */
  private alarmAt: number | null = null;
  /** The tier this object owns, once known. */
  private owner: { tierId: string; eventId: string } | null = null;
  /**
   * Whether the object's SQLite has its schema. A new object writes nothing until `loaded` finds its
   * tier in D1: a stub addressed by a made-up id must not leave storage behind (a cost attack).
   */
  private migrated = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TierStore(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql, env.DB);
    this.tasks = new StripeTasks(ctx.storage.sql, env);
    this.ledger = new Ledger(this.store, this.outbox, this.tasks);
    void ctx.blockConcurrencyWhile(async () => {
      this.migrated = hasSchema(ctx.storage.sql);
      if (this.migrated) ctx.storage.transactionSync(() => migrate(ctx.storage.sql));
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- RPC: buyers' holds ----------------------------------------------------------------------

  async reserve(req: HoldRequest): Promise<Result<HeldPart>> {
    if (!(await this.loaded(req.tierId, req.eventId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => decideHold(this.ledger, req, now));
    // A one-tier reservation refused for want of capacity is counted here; one across tiers is counted
    // once, by its lead, when the Worker learns that a tier refused it (countRefusal).
    if (req.header !== null && !result.ok && (result.code === "SOLD_OUT" || result.code === "SEAT_UNAVAILABLE")) {
      this.decide(() => this.store.countRefusal());
    }
    // A new reservation is answered only once its D1 record exists, so a 201 can always be read back.
    if (result.ok) await this.settleOrFail(result.reservation !== null);
    return result;
  }

  async activate(req: ActivateRequest): Promise<Result<HeldPart>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => activatePart(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(result.reservation !== null);
    return result;
  }

  async follow(tierId: string, decision: LeadDecision): Promise<void> {
    if (!(await this.loaded(tierId))) return;
    this.decide((now) => followLead(this.ledger, decision, now));
    await this.settle();
  }

  async extend(tierId: string, reservationId: string, ctx: RequestContext) {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.decide((now) =>
      onActiveHeader(this.ledger, reservationId, now, (header) => extendHeader(this.ledger, header, now, ctx)),
    );
    await this.settle();
    return result;
  }

  async release(tierId: string, reservationId: string, ctx: RequestContext) {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.decide((now) =>
      onActiveHeader(this.ledger, reservationId, now, (header) => releaseHeader(this.ledger, header, now, ctx), {
        alreadyReleasedIsOk: true,
      }),
    );
    await this.settle();
    return result;
  }

  // ---- RPC: checkout and sale --------------------------------------------------------------------

  async startCheckout(req: CheckoutRequest): Promise<Result<{ order: OrderRow; created: boolean }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => startCheckout(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(result.created);
    return result;
  }

  async attachSession(tierId: string, orderId: string, session: { id: string; url: string | null }) {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.decide((now) => attachSession(this.ledger, orderId, session, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  async claimFulfilment(tierId: string, orderId: string) {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    return this.decide((now) => claimFulfilment(this.ledger, orderId, now));
  }

  async sell(req: SellRequest): Promise<Result<{ late: boolean }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => sellPart(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  async unsell(tierId: string, reservationId: string, ticketIds: string[]): Promise<void> {
    if (!(await this.loaded(tierId))) return;
    this.decide((now) => unsellPart(this.ledger, reservationId, ticketIds, now));
    await this.settleOrFail(true);
  }

  async completeOrder(req: CompleteRequest): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => completeOrder(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  async cancelCheckout(tierId: string, orderId: string, status: "expired" | "canceled", ctx: RequestContext) {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const result = this.decide((now) => cancelCheckout(this.ledger, orderId, status, ctx, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  /** The refund is attempted before answering, and retried by the alarm until Stripe answers. */
  async refusePayment(req: RefusePaymentRequest): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => refusePayment(this.ledger, req, now));
    if (!result.ok) return result;
    await this.settleOrFail(true);
    await this.runTasks();
    return { ok: true, order: this.store.order(req.orderId) ?? result.order };
  }

  /** A reservation across tiers that this tier leads was refused for want of capacity (for the stats). */
  async countRefusal(tierId: string): Promise<void> {
    if (!(await this.loaded(tierId))) return;
    this.decide(() => this.store.countRefusal());
  }

  // ---- RPC: refunds and disputes -----------------------------------------------------------------

  async refundTickets(req: RefundTicketsRequest): Promise<Result<{ returned: number }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => refundTickets(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  async recordRefund(req: RecordRefundRequest): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => recordRefund(this.ledger, req, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  async flagDispute(req: DisputeRequest, ctx: RequestContext): Promise<Result<{ order: OrderRow }>> {
    if (!(await this.loaded(req.tierId))) return this.unknownTier(req.tierId);
    const result = this.decide((now) => flagDispute(this.ledger, req, ctx, now));
    if (result.ok) await this.settleOrFail(true);
    return result;
  }

  // ---- RPC: reads and organiser changes ---------------------------------------------------------

  /** The counters as they stand (for the organiser's stats; no outbox send, no seat list). */
  async counters(tierId: string): Promise<Result<TierCounters>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    return { ok: true, ...this.store.counters() };
  }

  async snapshot(tierId: string): Promise<Result<TierSnapshot>> {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    const state = this.ledger.state(true);
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
    const result = this.decide((now) => updateTier(this.ledger, req, now));
    if (result.ok) await this.settle();
    return result;
  }

  /**
   * The object's counters and bookkeeping, after sending its outbox: for `verify` (the held counter
   * must equal the holds that take capacity; D1 must agree with the sold counter) and `stats`.
   */
  async selfCheck(tierId: string): Promise<
    Result<{
      held: number;
      heldByHolds: number;
      sold: number;
      capacity: number;
      outboxPending: number;
      outboxPoisoned: number;
      refusals: number;
    }>
  > {
    if (!(await this.loaded(tierId))) return this.unknownTier(tierId);
    // Send what is queued first, so that D1 can be compared with these counters.
    await this.settle();
    const { capacity, held, sold, refusals } = this.store.counters();
    return {
      ok: true,
      held,
      heldByHolds: this.store.heldByHolds(),
      sold,
      capacity,
      outboxPending: this.outbox.pending(),
      outboxPoisoned: this.outbox.poisoned(),
      refusals,
    };
  }

  // ---- alarm: expiry and outbox retries --------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.migrated) return;
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
            else if (lead === undefined || lead === null || lead.status === "expired") this.ledger.expire(hold, now);
            else if (lead.status === "released") this.ledger.endHold(hold, "released", now);
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
    await this.tasks.run(Date.now(), (outcome) => this.decide((now) => taskDone(this.ledger, outcome, now)));
    await this.settle();
  }

  /** The lead tier's view of a reservation, for a follower whose part is due. */
  async leadDecision(tierId: string, reservationId: string): Promise<LeadDecision | null> {
    if (!(await this.loaded(tierId))) return null;
    const header = this.store.header(reservationId);
    if (!header) return null;
    const at = statusAt(header, Date.now());
    // At checkout the hold is still held: to a follower that is active.
    const status = at === "checkout" ? "active" : at;
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

  // ---- plumbing -------------------------------------------------------------------------------

  /** One decision: synchronous over the object's SQLite, all or nothing. */
  private decide<T>(decision: (now: number) => T): T {
    return this.ctx.storage.transactionSync(() => decision(Date.now()));
  }

  /**
   * Makes sure the object knows its tier. A new object copies it once from D1 (written there by
   * tier creation) under `blockConcurrencyWhile`; from then on this object owns the tier.
   */
  private async loaded(tierId: string, eventId?: string): Promise<boolean> {
    if (!this.owner) {
      let state = this.migrated ? this.store.tier(false) : null;
      if (!state) {
        await this.ctx.blockConcurrencyWhile(async () => {
          if (this.migrated && this.store.tier(false)) return;
          const found = await createDb(this.env.DB)
            .select({ tier: tiers, currency: events.currency, eventMaxPerOrder: events.maxTicketsPerOrder })
            .from(tiers)
            .innerJoin(events, eq(events.id, tiers.eventId))
            .where(eq(tiers.id, tierId))
            .get();
          if (found) {
            this.ctx.storage.transactionSync(() => {
              if (!this.migrated) migrate(this.ctx.storage.sql);
              this.store.initTier(found.tier, found.currency, found.eventMaxPerOrder);
            });
            this.migrated = true;
          }
        });
        state = this.migrated ? this.store.tier(false) : null;
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
