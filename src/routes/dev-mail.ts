/**
 * `GET /dev/mail` (docs/api.md, "E-mail"): in simulator mode (`MAIL_MODE=simulator`, set by `npm start`)
 * the ticket e-mails are kept instead of sent, and this lists them, newest first. In any other mode it is
 * `404`, as an unknown route: a deployment that sends real mail keeps none of it.
 */
import { desc } from "drizzle-orm";
import { simulatedMail } from "../db/schema";
import { isSimulated } from "../domain/mail/transport";
import { ApiError } from "../lib/errors";
import { DevMailList } from "./bodies";
import { operation, Routes } from "./operation";
import { simulatedMailView } from "./views";

/** The newest messages listed; older ones stay in D1 (`simulated_mail`). */
export const DEV_MAIL_LIMIT = 100;

const list = operation({
  method: "get",
  path: "/dev/mail",
  summary: "The e-mails the mail simulator kept instead of sending, newest first (MAIL_MODE=simulator only)",
  auth: "none",
  responses: { 200: { description: `The newest ${DEV_MAIL_LIMIT} messages`, body: DevMailList } },
  errors: ["NOT_FOUND"],
});

export const devMailRoutes = new Routes().on(list, async (c) => {
  if (!isSimulated(c.env)) throw new ApiError("NOT_FOUND", `No route ${c.req.method} ${c.req.path}`);
  const rows = await c
    .get("db")
    .select()
    .from(simulatedMail)
    .orderBy(desc(simulatedMail.sentAt), desc(simulatedMail.id))
    .limit(DEV_MAIL_LIMIT);
  // The messages carry buyers' links: kept by no cache.
  return c.json({ messages: rows.map(simulatedMailView) }, 200, { "Cache-Control": "no-store" });
});
