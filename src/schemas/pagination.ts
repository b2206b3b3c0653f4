import { z } from "zod";

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  action: z
    .string()
    .regex(/^[a-z]+(\.[a-z_]+)+$/, "must be an action such as 'reservation.created'")
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;
