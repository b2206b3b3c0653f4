import { z } from "zod";
import { amountProblem, isStripeCurrency, LARGEST_MAX_AMOUNT, UNSUPPORTED_CURRENCY } from "../lib/stripe-limits";
import { currency, instant, label, seatLabel, timezone } from "./common";

export const LIMITS = {
  maxCapacity: 1_000_000,
  minHoldSeconds: 5,
  maxHoldSeconds: 3600,
  maxTiersPerEvent: 100,
  /** Seats per seated tier: a venue section, not a stadium (its seat map travels with the tier). */
  maxSeats: 20_000,
} as const;

const seatList = z
  .array(seatLabel)
  .min(1, "must list at least one seat")
  .refine((seats) => new Set(seats).size === seats.length, "must not repeat a seat");

const tierFields = {
  name: label(200),
  /** Minor units; the event's currency narrows it to what Stripe charges (src/lib/stripe-limits.ts). */
  price: z.int().min(0).max(LARGEST_MAX_AMOUNT),
  maxPerOrder: z.int().min(1).max(1000).default(10),
  salesStartAt: instant.optional(),
  salesEndAt: instant.optional(),
  holdSeconds: z.int().min(LIMITS.minHoldSeconds).max(LIMITS.maxHoldSeconds).default(600),
  maxExtensions: z.int().min(0).max(100).default(3),
  extensionSeconds: z.int().min(1).max(LIMITS.maxHoldSeconds).default(300),
};

/** QueueSettings (API.md, "Drops"): the event sells through a queue that admits at `admitPerMinute`. */
export const QueueSettings = z.strictObject({
  opensAt: instant,
  admitPerMinute: z.int().min(1).max(600_000),
  passSeconds: z.int().min(60).max(3600).default(900),
  passReservations: z.int().min(1).max(10).default(3),
});
export type QueueSettings = z.infer<typeof QueueSettings>;

const maxHeldPerClient = z.int().min(1).max(1000);

const salesWindowOrdered = (t: { salesStartAt?: number; salesEndAt?: number }) =>
  t.salesStartAt === undefined || t.salesEndAt === undefined || t.salesStartAt < t.salesEndAt;

/** TierInput: general admission (`capacity`) or seated (`seats`; capacity is the number of seats). */
export const TierInput = z
  .strictObject({
    ...tierFields,
    capacity: z.int().min(1).max(LIMITS.maxCapacity).optional(),
    seats: seatList.max(LIMITS.maxSeats).optional(),
  })
  .refine((t) => (t.capacity === undefined) !== (t.seats === undefined), {
    message: "give either capacity (general admission) or seats (a seated tier), not both",
    path: ["capacity"],
  })
  .refine(salesWindowOrdered, { message: "must be after salesStartAt", path: ["salesEndAt"] });
export type TierInput = z.infer<typeof TierInput>;

export const EventInput = z
  .strictObject({
    name: label(200),
    startsAt: instant,
    endsAt: instant.optional(),
    timezone: timezone.default("UTC"),
    currency: currency.refine(isStripeCurrency, {
      message: UNSUPPORTED_CURRENCY,
      when: (payload) => payload.issues.length === 0,
    }),
    maxTicketsPerOrder: z.int().min(1).max(1000).default(10),
    maxHeldPerClient: maxHeldPerClient.default(20),
    queue: QueueSettings.optional(),
    tiers: z.array(TierInput).max(LIMITS.maxTiersPerEvent).default([]),
  })
  .refine((e) => e.endsAt === undefined || e.endsAt > e.startsAt, {
    message: "must be after startsAt",
    path: ["endsAt"],
  })
  .superRefine((e, ctx) => {
    if (!isStripeCurrency(e.currency)) return; // refused as such
    e.tiers.forEach((tier, i) => {
      if (!(tier.price >= 0 && tier.price <= LARGEST_MAX_AMOUNT)) return; // refused by the field itself
      const problem = amountProblem(e.currency, tier.price);
      if (problem) ctx.addIssue({ code: "custom", path: ["tiers", i, "price"], message: problem });
    });
  });
export type EventInput = z.infer<typeof EventInput>;

/** PATCH /v1/events/:eventId. `queue: null` removes the queue. */
export const EventPatch = z
  .strictObject({
    name: label(200).optional(),
    startsAt: instant.optional(),
    endsAt: instant.nullable().optional(),
    maxTicketsPerOrder: z.int().min(1).max(1000).optional(),
    maxHeldPerClient: maxHeldPerClient.optional(),
    queue: QueueSettings.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: "must change at least one field" });
export type EventPatch = z.infer<typeof EventPatch>;

/** PATCH /v1/tiers/:tierId. `null` clears a sales window bound. */
export const TierPatch = z
  .strictObject({
    name: label(200).optional(),
    price: tierFields.price.optional(),
    capacity: z.int().min(1).max(LIMITS.maxCapacity).optional(),
    addSeats: seatList.max(LIMITS.maxSeats).optional(),
    salesStartAt: instant.nullable().optional(),
    salesEndAt: instant.nullable().optional(),
    holdSeconds: z.int().min(LIMITS.minHoldSeconds).max(LIMITS.maxHoldSeconds).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: "must change at least one field" })
  .refine((p) => p.capacity === undefined || p.addSeats === undefined, {
    message: "give capacity (general admission) or addSeats (seated), not both",
    path: ["addSeats"],
  });
export type TierPatch = z.infer<typeof TierPatch>;
