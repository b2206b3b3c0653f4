import { listAudit } from "../domain/reports/audit-log";
import { readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { AuditQuery } from "../schemas/pagination";
import { AuditPage } from "./bodies";
import { operation, Routes } from "./operation";
import { auditView } from "./views";

const list = operation({
  method: "get",
  path: "/v1/events/:eventId/audit",
  summary: "The audit log, newest first",
  auth: "organiser",
  params: { eventId: idOf("evt") },
  query: AuditQuery,
  responses: { 200: { description: "A page of entries", body: AuditPage } },
});

export const auditRoutes = new Routes().on(list, organiserOnly(), async (c) => {
  const eventId = readParam(c, "eventId", list.params.eventId);
  const { entries, nextCursor } = await listAudit(c.get("db"), eventId, readQuery(c, list.query));
  return c.json({ entries: entries.map(auditView), nextCursor });
});
