/**
 * TierInventory: one Durable Object per tier, the only place the tier's capacity is decided.
 *
 * Every decision (hold, activate, release, extend, expire, sell, capacity change) is one
 * synchronous `transactionSync` over the object's SQLite: check and write with no `await` between,
 * so no other request can interleave. The same transaction queues the decision's D1 writes in the
 * outbox (and any Stripe call in its task queue), which are sent after the decision and retried by
 * the alarm until they land; the webhook messages among them are then put on the webhook queue.
 * The decisions themselves live in hold-, sale- and tier-decisions.ts; this class is the object's
 * entry points, its alarm, and the plumbing around each decision.
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import type { RequestContext } from "../db/audit";
import { createDb } from "../db/client";
import { statusAt } from "../db/reservation-status";
import { events, type OrderRow, type TierRow, tiers } from "../db/schema";
import { announceBestEffort } from "../db/webhook-queue";
import { AttemptRate, type AttemptRates } from "./attempt-rate";
import { activatePart, decideHold, extendHeader, followLead, onActiveHeader, releaseHeader } from "./hold-decisions";
import { Ledger } from "./ledger";
import { Outbox, RETRY_DELAY_MS } from "./outbox";
import { flagDispute, recordRefund, refundTickets } from "./refund-decisions";
import {
  attachSession,
  cancelCheckout,
  claimFulfilment,
  completeOrder,
  fulfilAlone,
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
  FulfilAloneRequest,
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
  UnchangedSnapshot,
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

/**
 * What an entry point does with its decision's D1 writes before it answers: nothing ("none"), send
 * them and leave a failed send to the alarm ("best effort"), or send them and answer a failed send as
 * a server fault ("must land").
 */
type Settle = "none" | "best effort" | "must land";

/** `then` after a decision that went through (a mode, or one picked from its result); no settling after a refusal. */
function ifOk<T extends { ok: boolean }>(
  then: Settle | ((done: Extract<T, { ok: true }>) => Settle),
): (result: T) => Settle {
  return (result) => {
    if (!result.ok) return "none";
    return typeof then === "function" ? then(result as Extract<T, { ok: true }>) : then;
  };
}

/** A new reservation is answered only once its D1 record exists, so a 201 can always be read back. */
const newHoldMustLand = ifOk<Result<HeldPart>>((held) => (held.reservation !== null ? "must land" : "best effort"));

export class TierInventory extends DurableObject<Env> {
  private readonly store: TierStore;
  private readonly outbox: Outbox;
  private readonly tasks: StripeTasks;
  private readonly ledger: Ledger;
  /** Reservation attempts a second (GET /v1/tiers/:tierId/attempts). */
  private readonly attempts = new AttemptRate();
  /** The alarm this object has set (mirrors storage, read once at start). */
  private alarmAt: number | null = null;
  /** The tier this object owns, once known. */
  private owner: { tierId: string; eventId: string } | null = null;
  /**
   * Whether the object's SQLite has its schema. A new object writes nothing until `loaded` finds its
   * tier in D1: a stub addressed by a made-up id must not leave storage behind (a cost attack).
   */
  private migrated = false;
  /**
   * The version of what `snapshot` shows: this instance's own prefix (a restarted object never repeats
   * an old version) and a count of its decisions, every change of the tier being one.
   */
  private readonly instance = crypto.randomUUID();
  private decisions = 0;

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
    this.attempts.count(Date.now());
    const result = await this.run(req.tierId, (now) => decideHold(this.ledger, req, now), newHoldMustLand, req.eventId);
    // A one-tier reservation refused for want of capacity is counted here; one across tiers is counted
    // once, by its lead, when the Worker learns that a tier refused it (countRefusal).
    if (req.header !== null && !result.ok && (result.code === "SOLD_OUT" || result.code === "SEAT_UNAVAILABLE")) {
      this.decide(() => this.store.countRefusal());
    }
    return result;
  }

  async activate(req: ActivateRequest): Promise<Result<HeldPart>> {
    return this.run(req.tierId, (now) => activatePart(this.ledger, req, now), newHoldMustLand);
  }

  async follow(tierId: string, decision: LeadDecision): Promise<void> {
    await this.run(tierId, (now) => followLead(this.ledger, decision, now), "best effort");
  }

  async extend(tierId: string, reservationId: string, ctx: RequestContext) {
    return this.run(
      tierId,
      (now) => onActiveHeader(this.ledger, reservationId, now, (header) => extendHeader(this.ledger, header, now, ctx)),
      "best effort",
    );
  }

  async release(tierId: string, reservationId: string, ctx: RequestContext) {
    return this.run(
      tierId,
      (now) =>
        onActiveHeader(this.ledger, reservationId, now, (header) => releaseHeader(this.ledger, header, now, ctx), {
          alreadyReleasedIsOk: true,
        }),
      "best effort",
    );
  }

  // ---- RPC: checkout and sale --------------------------------------------------------------------

  async startCheckout(req: CheckoutRequest): Promise<Result<{ order: OrderRow; created: boolean }>> {
    return this.run(
      req.tierId,
      (now) => startCheckout(this.ledger, req, now),
      ifOk((opened) => (opened.created ? "must land" : "best effort")),
    );
  }

  async attachSession(tierId: string, orderId: string, session: { id: string; url: string | null }) {
    return this.run(tierId, (now) => attachSession(this.ledger, orderId, session, now), ifOk("must land"));
  }

  async claimFulfilment(tierId: string, orderId: string) {
    return this.run(tierId, (now) => claimFulfilment(this.ledger, orderId, now), "none");
  }

  async fulfilAlone(req: FulfilAloneRequest) {
    return this.run(req.tierId, (now) => fulfilAlone(this.ledger, req, now), ifOk("must land"));
  }

  async sell(req: SellRequest): Promise<Result<{ late: boolean }>> {
    return this.run(req.tierId, (now) => sellPart(this.ledger, req, now), ifOk("must land"));
  }

  async unsell(tierId: string, reservationId: string, ticketIds: string[]): Promise<void> {
    await this.run(tierId, (now) => unsellPart(this.ledger, reservationId, ticketIds, now), "must land");
  }

  async completeOrder(req: CompleteRequest): Promise<Result<{ order: OrderRow }>> {
    return this.run(req.tierId, (now) => completeOrder(this.ledger, req, now), ifOk("must land"));
  }

  async cancelCheckout(tierId: string, orderId: string, status: "expired" | "canceled", ctx: RequestContext) {
    return this.run(tierId, (now) => cancelCheckout(this.ledger, orderId, status, ctx, now), ifOk("must land"));
  }

  /** The refund is attempted before answering, and retried by the alarm until Stripe answers. */
  async refusePayment(req: RefusePaymentRequest): Promise<Result<{ order: OrderRow }>> {
    const result = await this.run(req.tierId, (now) => refusePayment(this.ledger, req, now), ifOk("must land"));
    if (!result.ok) return result;
    await this.runTasks();
    return { ok: true, order: this.store.order(req.orderId) ?? result.order };
  }

  /** A reservation across tiers that this tier leads was refused for want of capacity (for the stats). */
  async countRefusal(tierId: string): Promise<void> {
    await this.run(tierId, () => this.store.countRefusal(), "none");
  }

  // ---- RPC: refunds and disputes -----------------------------------------------------------------

  async refundTickets(req: RefundTicketsRequest): Promise<Result<{ returned: number }>> {
    return this.run(req.tierId, (now) => refundTickets(this.ledger, req, now), ifOk("must land"));
  }

  async recordRefund(req: RecordRefundRequest): Promise<Result<{ order: OrderRow }>> {
    return this.run(req.tierId, (now) => recordRefund(this.ledger, req, now), ifOk("must land"));
  }

  async flagDispute(req: DisputeRequest, ctx: RequestContext): Promise<Result<{ order: OrderRow }>> {
    return this.run(req.tierId, (now) => flagDispute(this.ledger, req, ctx, now), ifOk("must land"));
  }

  // ---- RPC: reads and organiser changes ---------------------------------------------------------

  /** Reservation attempts a second, as counted here (GET /v1/tiers/:tierId/attempts). */
  async attemptRates(tierId: string): Promise<Result<AttemptRates>> {
    return this.known(tierId, () => ({ ok: true as const, ...this.attempts.rates() }));
  }

  /** The counters as they stand (for the organiser's stats; no outbox send, no seat list). */
  async counters(tierId: string): Promise<Result<TierCounters>> {
    return this.known(tierId, () => ({ ok: true as const, ...this.store.counters() }));
  }

  /**
   * The tier as buyers see it. With `seen`, the version of a snapshot the caller keeps: if nothing has
   * changed since, only that (a 20,000-seat tier's seats need not cross again every second).
   */
  async snapshot(tierId: string, seen?: string): Promise<Result<TierSnapshot | UnchangedSnapshot>> {
    return this.known(tierId, () => {
      const version = `${this.instance}:${this.decisions}`;
      if (seen === version) return { ok: true as const, unchanged: true as const, version, now: Date.now() };
      // The seat labels go once, with their statuses; the tier row need not carry them again.
      const state = this.ledger.state(false);
      return {
        ok: true as const,
        tier: state.row,
        currency: state.currency,
        held: state.held,
        sold: state.sold,
        available: state.row.capacity - state.held - state.sold,
        seats: state.row.kind === "seated" ? this.store.seatStates() : null,
        now: Date.now(),
        version,
      };
    });
  }

  async updateTier(req: UpdateTierRequest): Promise<Result<{ tier: TierRow }>> {
    return this.run(req.tierId, (now) => updateTier(this.ledger, req, now), ifOk("best effort"));
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
    return this.known(tierId, async () => {
      // Send what is queued first, so that D1 can be compared with these counters.
      await this.settle();
      const { capacity, held, sold, refusals } = this.store.storedCounters();
      return {
        ok: true as const,
        held,
        heldByHolds: this.store.heldByHolds(),
        sold,
        capacity,
        outboxPending: this.outbox.pending(),
        outboxPoisoned: this.outbox.poisoned(),
        refusals,
      };
    });
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
        this.decide(() => {
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
    const refused = await this.outbox.retryPoisoned();
    await this.announce();
    if (refused > 0) await this.armAlarm(Date.now() + POISON_RETRY_MS);
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

  /**
   * How the entry points that only read open (and `run`, for those that decide; `leadDecision` answers
   * null instead): the object must know `tierId` (and, given `eventId`, the tier must be that event's),
   * or the call is refused NOT_FOUND and `then` never runs.
   */
  private async known<T>(tierId: string, then: () => T | Promise<T>, eventId?: string): Promise<T | Refusal> {
    if (!(await this.loaded(tierId, eventId))) return this.unknownTier(tierId);
    return then();
  }

  /**
   * An entry point that decides: once the tier is known (else NOT_FOUND, as in `known`), `decision` as
   * one decision, then the outbox and the alarm settled as `settle` says of its result.
   */
  private async run<T>(
    tierId: string,
    decision: (now: number) => T,
    settle: Settle | ((result: T) => Settle),
    eventId?: string,
  ): Promise<T | Refusal> {
    if (!(await this.loaded(tierId, eventId))) return this.unknownTier(tierId);
    const result = this.decide(decision);
    const mode = typeof settle === "function" ? settle(result) : settle;
    // Straight after the decision, in the same turn (see `settle`).
    if (mode !== "none") await this.settleOrFail(mode === "must land");
    return result;
  }

  /** One decision: synchronous over the object's SQLite, all or nothing. */
  private decide<T>(decision: (now: number) => T): T {
    this.decisions++; // before: a snapshot taken after this point is of a new version, whatever the outcome
    try {
      return this.ctx.storage.transactionSync(() => decision(Date.now()));
    } catch (error) {
      this.store.forget(); // rolled back: what the store kept of the tier may be ahead of storage
      throw error;
    }
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
            .select({ tier: tiers, currency: events.currency })
            .from(tiers)
            .innerJoin(events, eq(events.id, tiers.eventId))
            .where(eq(tiers.id, tierId))
            .get();
          if (found) {
            this.ctx.storage.transactionSync(() => {
              if (!this.migrated) migrate(this.ctx.storage.sql);
              this.store.initTier(found.tier, found.currency);
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
    } finally {
      await this.announce();
    }
  }

  /**
   * Puts the webhook messages that reached D1 on the delivery queue, best effort: a message that does
   * not get there now is found by the Worker's per-minute sweep (src/domain/webhooks/sweep.ts).
   */
  private announce(): Promise<void> {
    return announceBestEffort(this.env.WEBHOOK_QUEUE, this.outbox.takeLanded());
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
