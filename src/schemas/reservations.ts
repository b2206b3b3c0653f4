import { z } from "zod";
import { idOf, label, seatLabel } from "./common";
import { turnstileToken } from "./queue";

const quantityItem = z.strictObject({ tierId: idOf("tier"), quantity: z.int().min(1).max(1000) });
const seatsItem = z.strictObject({
  tierId: idOf("tier"),
  seats: z
    .array(seatLabel)
    .min(1)
    .max(1000)
    .refine((s) => new Set(s).size === s.length, "must not repeat a seat"),
});

export const ReservationInput = z.strictObject({
  items: z
    .array(z.union([quantityItem, seatsItem]))
    .min(1)
    .max(20)
    .refine((items) => new Set(items.map((i) => i.tierId)).size === items.length, "must name each tier once"),
  sessionId: label(200).optional(),
  /** Needed while the bot check is on and the event has no queue (API.md, "Drops"). */
  turnstileToken: turnstileToken.optional(),
});
export type ReservationInput = z.infer<typeof ReservationInput>;
