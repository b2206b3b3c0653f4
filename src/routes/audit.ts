import { Hono } from "hono";
import { listAudit } from "../domain/reports/audit-log";
import { readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { AuditQuery } from "../schemas/pagination";
import { auditView } from "./views";

export const auditRoutes = new Hono<{ Bindings: Env }>().get(
  "/v1/events/:eventId/audit",
  organiserOnly(),
  async (c) => {
    const eventId = readParam(c, "eventId", idOf("evt"));
    const { entries, nextCursor } = await listAudit(c.get("db"), eventId, readQuery(c, AuditQuery));
    return c.json({ entries: entries.map(auditView), nextCursor });
  },
);
