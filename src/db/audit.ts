import { newId } from "../lib/ids";
import type { AuditRow } from "./schema";

export type ActorType = "organiser" | "buyer" | "scanner" | "stripe" | "system";

export interface Actor {
  type: ActorType;
  id?: string;
}

/** Who asked for a change, and through which request: carried into every audit entry. */
export interface RequestContext {
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const SYSTEM: RequestContext = { actor: { type: "system" }, ip: null, userAgent: null, requestId: null };

export interface AuditInput {
  /** Deterministic for entries sent through an outbox (so a re-sent entry is written once). */
  id?: string;
  eventId: string;
  at: number;
  action: string;
  subject: { type: string; id: string };
  data: Record<string, unknown>;
}

export function auditRow(ctx: RequestContext, input: AuditInput): AuditRow {
  return {
    id: input.id ?? newId("aud"),
    eventId: input.eventId,
    at: input.at,
    action: input.action,
    actorType: ctx.actor.type,
    actorId: ctx.actor.id ?? null,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    data: input.data,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
  };
}
