import { Hono } from "hono";
import { listAudit } from "../domain/audit-log";
import { readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { AuditQuery } from "../schemas/pagination";

export const auditRoutes = new Hono<{ Bindings: Env }>().get(
  "/v1/events/:eventId/audit",
  organiserOnly(),
  async (c) => {
    const eventId = readParam(c, "eventId", idOf("evt"));
    return c.json(await listAudit(c.get("db"), eventId, readQuery(c, AuditQuery)));
  },
);
