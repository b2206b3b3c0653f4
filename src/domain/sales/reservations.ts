/**
 * Reservations across the tiers of one event, all-or-nothing. Each tier's object holds its part
 * keyed by the reservation id; the first tier of the reservation leads it (keeps its status,
 * expiry, extensions and token hash, and writes it to D1), the others follow the lead's decisions.
 */
import { eq } from "drizzle-orm";
import type { RequestContext } from "../../db/audit";
import { type ClientClaim, claimClientHolds, claimPass, releaseClientHolds, releasePass } from "../../db/claims";
import type { Db } from "../../db/client";
import { type ReservationRow, reservations } from "../../db/schema";
import type { AdmissionPass } from "../../lib/admission";
import { ApiError, notFound } from "../../lib/errors";
import {
  derivedBytes,
  idFrom,
  newId,
  newToken,
  secretsEqual,
  sha256Hex,
  tokenFrom,
  tokenKind,
  uuidFrom,
} from "../../lib/ids";
import { refusalError, tierObject, unwrap } from "../../objects/tier-client";
import type { HeaderInit, HeldPart, HoldTerms, LeadDecision } from "../../objects/tier-rpc";
import type { ReservationInput } from "../../schemas/reservations";
import { eventRules } from "../catalog/event-rules";
import { unknownTiers } from "../catalog/known-tiers";
import { admit, rememberUsedUp } from "../drops/admission";
import { claimSession, releaseSession, type SessionClaim } from "./session-claims";

interface Item {
  tierId: string;
  quantity: number;
  seats?: string[];
}

/**
 * Holds the reservation's tickets. With an idempotency seed, the reservation's id and token are
 * derived from it, so a retry of a request whose answer was lost converges on the same hold.
 *
 * Before any tier object is addressed (DESIGN.md 14): the event's order limit, its queue's admission
 * pass or the bot check, the tiers, then the claims in D1: the session's, the pass's, and the
 * client's allowance of held tickets. A refused hold gives every claim back.
 */
export async function createReservation(
  env: Env,
  db: Db,
  eventId: string,
  input: ReservationInput,
  seed: Uint8Array | null,
  credentials: { client: string; remoteIp: string | null; pass: AdmissionPass | null },
  ctx: RequestContext,
): Promise<{ reservation: ReservationRow; token: string }> {
  const items: Item[] = input.items.map((i) =>
    "seats" in i ? { tierId: i.tierId, quantity: i.seats.length, seats: i.seats } : i,
  );
  const quantity = items.reduce((n, i) => n + i.quantity, 0);
  const now = Date.now();
  const rules = await eventRules(env, db, eventId);
  if (!rules) throw notFound("event", eventId);
  if (quantity > rules.maxTicketsPerOrder) {
    throw new ApiError("TOO_MANY_TICKETS", `This event allows at most ${rules.maxTicketsPerOrder} tickets per order`, {
      limit: rules.maxTicketsPerOrder,
    });
  }
  const pass = await admit(env, eventId, rules, credentials.pass, {
    remoteIp: credentials.remoteIp,
    turnstileToken: input.turnstileToken,
    verifyKey: seed ? uuidFrom(await derivedBytes(seed, "siteverify")) : null,
  });
  const [id, token] = seed
    ? await Promise.all([
        derivedBytes(seed, "reservation-id").then((b) => idFrom("rsv", b)),
        derivedBytes(seed, "reservation-token").then((b) => tokenFrom("rsv", b)),
      ])
    : [newId("rsv"), newToken("rsv")];
  const header: HeaderInit = {
    id,
    eventId,
    leadTierId: (items[0] as Item).tierId,
    sessionId: input.sessionId ?? null,
    tokenHash: await sha256Hex(token),
    items,
  };
  await requireTiers(db, eventId, items);
  const claims = new Claims(env.DB, db, header.id);
  try {
    if (header.sessionId !== null) await claims.session({ eventId, sessionId: header.sessionId, reservationId: id });
    if (pass) await claims.pass(pass, now);
    await claims.client({ eventId, client: credentials.client, reservationId: id, quantity }, now);
    const reservation = items.length === 1 ? await holdOne(env, header, ctx) : await holdAll(env, header, ctx);
    return { reservation, token };
  } catch (error) {
    // A refusal held nothing: give the claims back. After a server fault the hold may exist, so they
    // stay (a retry with the same key converges on it; otherwise they lapse).
    if (error instanceof ApiError) await claims.giveBack();
    throw error;
  }
}

/** The claims one reservation has taken, in order, to give back together if it is refused. */
class Claims {
  private readonly taken: (() => Promise<void>)[] = [];

  constructor(
    private readonly d1: D1Database,
    private readonly db: Db,
    private readonly reservationId: string,
  ) {}

  async session(claim: SessionClaim): Promise<void> {
    await claimSession(this.db, claim);
    this.taken.push(() => releaseSession(this.db, claim));
  }

  async pass(pass: AdmissionPass, now: number): Promise<void> {
    const claim = { eventId: pass.eventId, entryId: pass.entryId, reservationId: this.reservationId };
    const outcome = await claimPass(this.db, { ...claim, allowed: pass.reservations }, now);
    if (!outcome.ok) {
      if ("holding" in outcome) {
        throw new ApiError("DUPLICATE_RESERVATION", "This admission pass already holds a reservation", {
          reservationId: outcome.holding,
        });
      }
      rememberUsedUp(pass);
      throw new ApiError("ADMISSION_INVALID", `The admission pass is used up (${pass.reservations} reservations)`);
    }
    this.taken.push(() => releasePass(this.db, claim));
  }

  async client(claim: ClientClaim, now: number): Promise<void> {
    const retryAfter = await claimClientHolds(this.d1, this.db, claim, now);
    if (retryAfter !== null) {
      throw new ApiError(
        "RATE_LIMITED",
        "This client holds as many tickets of this event as it may; complete or release a reservation first",
        { reason: "holds", retryAfter },
        { "Retry-After": String(retryAfter) },
      );
    }
    this.taken.push(() => releaseClientHolds(this.db, this.reservationId));
  }

  async giveBack(): Promise<void> {
    for (const give of this.taken.reverse()) await give();
  }
}

/**
 * Every item names a tier of this event, checked in D1 before any tier object is addressed: a stub
 * for a made-up id would create that object (DESIGN.md's trap), so an unknown one is refused here.
 */
async function requireTiers(db: Db, eventId: string, items: Item[]): Promise<void> {
  const [unknown] = await unknownTiers(db, eventId, [...new Set(items.map((i) => i.tierId))]);
  if (unknown !== undefined) throw new ApiError("NOT_FOUND", `No tier '${unknown}' in this event`);
}

async function holdOne(env: Env, header: HeaderInit, ctx: RequestContext): Promise<ReservationRow> {
  const item = header.items[0] as Item;
  const part = unwrap(await tierObject(env, item.tierId).reserve(holdRequest(header, item, header, ctx)));
  if (!part.reservation) throw new Error(`tier ${item.tierId} held ${header.id} without opening it`);
  return part.reservation;
}

/** Holds every part `pending`; if all tiers say yes, activates them, else gives back what was held. */
async function holdAll(env: Env, header: HeaderInit, ctx: RequestContext): Promise<ReservationRow> {
  const held = await Promise.allSettled(
    header.items.map((item) => tierObject(env, item.tierId).reserve(holdRequest(header, item, null, ctx))),
  );
  const parts: HeldPart[] = [];
  let failure: unknown = null;
  for (const outcome of held) {
    if (outcome.status === "rejected") failure ??= outcome.reason;
    else if (outcome.value.ok) parts.push(outcome.value);
    else failure ??= refusalError(outcome.value);
  }
  if (failure !== null) {
    await rollBack(env, header);
    if (failure instanceof ApiError && (failure.code === "SOLD_OUT" || failure.code === "SEAT_UNAVAILABLE")) {
      await countRefusal(env, header.leadTierId);
    }
    throw failure;
  }

  const terms = strictest(parts.map((p) => p.terms));
  const expiresAt = Date.now() + terms.holdSeconds * 1000;
  // Best-available seats were picked by the tiers; the reservation lists what was actually held.
  const items = header.items.map((item, i) => {
    const seats = parts[i]?.seats;
    return seats ? { ...item, seats } : item;
  });
  const activate = (item: Item, lead: boolean) =>
    tierObject(env, item.tierId).activate({
      tierId: item.tierId,
      reservationId: header.id,
      expiresAt,
      header: lead ? { ...header, items, terms } : null,
      ctx,
    });
  // Followers first, the lead last: the reservation exists (and is written to D1) only once every
  // part is active, so a rollback never leaves a reservation behind.
  const followers = items.filter((item) => item.tierId !== header.leadTierId);
  const activated = await Promise.allSettled(followers.map((item) => activate(item, false)));
  if (activated.some((a) => a.status === "rejected" || !a.value.ok)) {
    await rollBack(env, header);
    throw new Error(`reservation ${header.id} could not be activated in every tier`);
  }
  const lead = await activate(items[0] as Item, true).catch(async (error: unknown) => {
    await rollBack(env, header);
    throw error;
  });
  if (!lead.ok || !lead.reservation) {
    await rollBack(env, header);
    throw new Error(`the lead tier did not open reservation ${header.id}`);
  }
  return lead.reservation;
}

/** Only a statistic: a failure to count it must not change the buyer's answer. */
async function countRefusal(env: Env, leadTierId: string): Promise<void> {
  try {
    await tierObject(env, leadTierId).countRefusal(leadTierId);
  } catch (error) {
    console.error(JSON.stringify({ msg: "refusal not counted", leadTierId, error: String(error) }));
  }
}

function holdRequest(header: HeaderInit, item: Item, single: HeaderInit | null, ctx: RequestContext) {
  return {
    tierId: item.tierId,
    eventId: header.eventId,
    reservationId: header.id,
    leadTierId: header.leadTierId,
    quantity: item.quantity,
    ...(item.seats ? { seats: item.seats } : {}),
    header: single,
    ctx,
  };
}

function strictest(terms: HoldTerms[]): HoldTerms {
  return {
    holdSeconds: Math.min(...terms.map((t) => t.holdSeconds)),
    maxExtensions: Math.min(...terms.map((t) => t.maxExtensions)),
    extensionSeconds: Math.min(...terms.map((t) => t.extensionSeconds)),
  };
}

async function rollBack(env: Env, header: HeaderInit): Promise<void> {
  await tellTiers(env, header.items, { reservationId: header.id, status: "released", expiresAt: 0 });
}

/**
 * Passes a decision on to other tiers. Best effort: a tier that does not hear it (a crash in
 * between) reconciles with the lead when its own alarm comes, or its pending part lapses.
 */
async function tellTiers(env: Env, items: Item[], decision: LeadDecision): Promise<void> {
  const told = await Promise.allSettled(
    items.map((item) => tierObject(env, item.tierId).follow(item.tierId, decision)),
  );
  told.forEach((outcome, i) => {
    if (outcome.status === "rejected") {
      console.error(
        JSON.stringify({
          msg: "tier did not hear the lead's decision",
          tierId: items[i]?.tierId,
          decision,
          error: String(outcome.reason),
        }),
      );
    }
  });
}

// ---- reading and changing a reservation, as its holder ---------------------------------------

/**
 * The reservation, if `token` is its own token. No or a malformed token is `401`; another
 * reservation's token is `403`.
 */
export async function authorizedReservation(db: Db, id: string, token: string | null): Promise<ReservationRow> {
  if (token === null || tokenKind(token) !== "rsv") {
    throw new ApiError("UNAUTHORIZED", "This call needs the reservation's token as a bearer token");
  }
  const row = await db.select().from(reservations).where(eq(reservations.id, id)).get();
  if (!row) throw notFound("reservation", id);
  const hash = await sha256Hex(token);
  if (await secretsEqual(hash, row.tokenHash)) return row;
  const other = await db
    .select({ id: reservations.id })
    .from(reservations)
    .where(eq(reservations.tokenHash, hash))
    .get();
  if (other) throw new ApiError("FORBIDDEN", "This token belongs to another reservation");
  throw new ApiError("UNAUTHORIZED", "The token is not valid for this reservation");
}

export async function extendReservation(env: Env, row: ReservationRow, ctx: RequestContext): Promise<ReservationRow> {
  const { reservation } = unwrap(await tierObject(env, row.leadTierId).extend(row.leadTierId, row.id, ctx));
  await tellFollowers(env, reservation);
  return reservation;
}

export async function releaseReservation(env: Env, row: ReservationRow, ctx: RequestContext): Promise<ReservationRow> {
  const { reservation } = unwrap(await tierObject(env, row.leadTierId).release(row.leadTierId, row.id, ctx));
  await tellFollowers(env, reservation);
  return reservation;
}

async function tellFollowers(env: Env, r: ReservationRow): Promise<void> {
  if (r.status !== "active" && r.status !== "released" && r.status !== "expired") return;
  const followers = r.items.filter((i) => i.tierId !== r.leadTierId);
  await tellTiers(env, followers, { reservationId: r.id, status: r.status, expiresAt: r.expiresAt });
}
