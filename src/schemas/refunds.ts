import { z } from "zod";
import { idOf, label } from "./common";

export const RefundInput = z.strictObject({
  /** The tickets to refund; all the order's tickets not refunded yet when omitted. */
  ticketIds: z.array(idOf("tkt")).min(1, "must name at least one ticket (or be omitted for all)").max(100).optional(),
  reason: label(500).optional(),
});
export type RefundInput = z.infer<typeof RefundInput>;
