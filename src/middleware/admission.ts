/**
 * The admission pass a reservation shows (`Boxoffice-Admission`), read before anything else is done,
 * the idempotency claim included: a forged, expired, used-up or other event's pass costs no database
 * read or write. Whether the event needs one is the reservation's own business (domain/drops/admission.ts).
 */
import type { MiddlewareHandler } from "hono";
import { readAdmission } from "../domain/drops/admission";
import type { AdmissionPass } from "../lib/admission";
import { ADMISSION_HEADER } from "../schemas/queue";

declare module "hono" {
  interface ContextVariableMap {
    admissionPass: AdmissionPass | null;
  }
}

export function admissionPass(): MiddlewareHandler<{ Bindings: Env }> {
  return async function admissionPassMiddleware(c, next) {
    const shown = c.req.header(ADMISSION_HEADER) ?? null;
    c.set("admissionPass", await readAdmission(c.env, c.req.param("eventId") ?? "", shown, Date.now()));
    await next();
  };
}
