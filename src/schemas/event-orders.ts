import { z } from "zod";
import { ORDER_STATUSES } from "../db/schema";

export const OrderListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(ORDER_STATUSES).optional(),
});
export type OrderListQuery = z.infer<typeof OrderListQuery>;
