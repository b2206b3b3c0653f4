/**
 * What a reservation must show before any tier object is addressed (DESIGN.md 14): on an event that
 * sells through its queue, an admission pass of this event's queue, checked by its signature and
 * expiry alone (no database read); on any other event, the bot check when it is on.
 */
import { type AdmissionPass, readPass } from "../../lib/admission";
import { ApiError } from "../../lib/errors";
import type { EventRules } from "../catalog/event-rules";
import { requireHuman } from "./bot-check";

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

/**
 * The pass a request shows, checked by its signature, event and expiry, and against the passes this
 * isolate saw used up: no database read (run before anything else, the idempotency claim included).
 * Null without one; a bad one is `403 ADMISSION_INVALID`.
 */
export async function readAdmission(
  env: Env,
  eventId: string,
  shown: string | null,
  now: number,
): Promise<AdmissionPass | null> {
  if (shown === null) return null;
  const pass = await readPass(env.APP_SECRET, shown);
  if (!pass) throw invalid("is malformed or not signed by this service");
  if (pass.eventId !== eventId) throw invalid("is for another event");
  if (pass.expiresAt <= now) throw invalid("has expired");
  const lapse = usedUp.get(pass.entryId);
  if (lapse !== undefined) {
    if (lapse > now) throw invalid("is used up");
    usedUp.delete(pass.entryId);
  }
  return pass;
}

const invalid = (why: string) => new ApiError("ADMISSION_INVALID", `The admission pass ${why}`);

/**
 * What the reservation goes ahead under: on an event with a queue, its pass (read by `readAdmission`)
 * of this queue; on any other event, the bot check when it is on (a pass shown there is ignored).
 */
export async function admit(
  env: Env,
  eventId: string,
  rules: EventRules,
  pass: AdmissionPass | null,
  bot: { remoteIp: string | null; turnstileToken: string | undefined; verifyKey: string | null },
): Promise<AdmissionPass | null> {
  if (!rules.queue) {
    await requireHuman(env, bot.turnstileToken, bot.remoteIp, bot.verifyKey);
    return null;
  }
  if (pass === null) {
    throw new ApiError("ADMISSION_REQUIRED", "This event sells through its queue: join it for an admission pass", {
      queueUrl: queueUrl(eventId),
    });
  }
  if (pass.generation !== rules.queue.generation) throw invalid("is for another queue");
  return pass;
}
