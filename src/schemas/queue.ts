import { z } from "zod";
import { label } from "./common";

/** A Turnstile response token (Cloudflare documents at most 2048 characters). */
export const turnstileToken = z.string().min(1, "must not be empty").max(2048, "must be at most 2048 characters");

/** POST /v1/events/:eventId/queue. Joining again with the same `sessionId` answers the same entry. */
export const QueueJoinInput = z.strictObject({
  sessionId: label(200).optional(),
  turnstileToken: turnstileToken.optional(),
});
export type QueueJoinInput = z.infer<typeof QueueJoinInput>;

/** The `Boxoffice-Admission` header's pass (its form is checked by its signature). */
export const ADMISSION_HEADER = "Boxoffice-Admission";
