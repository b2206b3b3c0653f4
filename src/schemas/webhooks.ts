import { z } from "zod";
import { DELIVERY_STATUSES, WEBHOOK_TYPES } from "../db/schema";
import { MAX_WEBHOOK_URL_LENGTH } from "../lib/webhook-url";
import { label } from "./common";

/** The message types an endpoint subscribes to; `*` for all of them. */
export const WebhookEventName = z.enum(["*", ...WEBHOOK_TYPES]);

/**
 * `POST /v1/webhook-endpoints`. The URL's shape only: where it may point is the domain's rule
 * (src/lib/webhook-url.ts), which depends on WEBHOOK_ALLOW_LOCAL.
 */
export const EndpointInput = z.strictObject({
  url: z.string().min(1, "must not be empty").max(MAX_WEBHOOK_URL_LENGTH, "is too long"),
  events: z
    .array(WebhookEventName)
    .min(1, "must name at least one type, or '*'")
    .refine((e) => new Set(e).size === e.length, "must not repeat a type")
    .refine((e) => !e.includes("*") || e.length === 1, "'*' already means every type: name it alone")
    .default(["*"]),
  description: label(500).optional(),
});
export type EndpointInput = z.infer<typeof EndpointInput>;

export const DeliveryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuery>;
