/**
 * What a reservation must show before any tier object is addressed (DESIGN.md 14): on an event that
 * sells through its queue, an admission pass of this event's queue, checked by its signature and
 * expiry alone (no database read); on any other event, the bot check when it is on.
 */
import { type AdmissionPass, readPass } from "../../lib/admission";
import { ApiError } from "../../lib/errors";
import type { EventRules } from "../catalog/event-rules";
import { requireHuman } from "./bot-check";

export interface Credentials {
  client: string;
  /** The `Boxoffice-Admission` header. */
  pass: string | null;
}

/** The queue's join route, for a buyer sent there. */
export const queueUrl = (eventId: string) => `/v1/events/${eventId}/queue`;

/**
 * Passes this isolate has seen used up, until they lapse: a used-up pass shown again is refused
 * without asking D1 again.
 */
const usedUp = new Map<string, number>();
const MAX_USED_UP = 10_000;

export function rememberUsedUp(pass: AdmissionPass): void {
  usedUp.set(pass.entryId, pass.expiresAt);
  if (usedUp.size > MAX_USED_UP) usedUp.delete(usedUp.keys().next().value as string);
}

/** The pass the reservation goes ahead under (null on an event without a queue), or the refusal. */
export async function admit(
  env: Env,
  eventId: string,
  rules: EventRules,
  credentials: Credentials & { turnstileToken: string | undefined },
  now: number,
): Promise<AdmissionPass | null> {
  if (!rules.queue) {
    await requireHuman(env, credentials.turnstileToken, credentials.client);
    return null;
  }
  if (credentials.pass === null) {
    throw new ApiError("ADMISSION_REQUIRED", "This event sells through its queue: join it for an admission pass", {
      queueUrl: queueUrl(eventId),
    });
  }
  const pass = await readPass(env.APP_SECRET, credentials.pass);
  const invalid = (why: string) => new ApiError("ADMISSION_INVALID", `The admission pass ${why}`);
  if (!pass) throw invalid("is malformed or not signed by this service");
  if (pass.eventId !== eventId || pass.generation !== rules.queue.generation) throw invalid("is for another queue");
  if (pass.expiresAt <= now) throw invalid("has expired");
  const lapse = usedUp.get(pass.entryId);
  if (lapse !== undefined) {
    if (lapse > now) throw invalid("is used up");
    usedUp.delete(pass.entryId);
  }
  return pass;
}
