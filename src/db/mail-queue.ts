/**
 * What goes on the mail queue (Cloudflare Queues, `MAIL_QUEUE`; wrangler.toml): a pointer to one ticket
 * e-mail's row in D1 (`ticket_emails`), never the message, so each wake-up reads the e-mail as it stands
 * and a pointer sent twice does no harm (an attempt is claimed in D1 first). The queue message carries
 * its e-mail from attempt to attempt, retried with `message.retry({ delaySeconds })`.
 */

import { sendAll } from "../lib/task-queue";

/** The queue's name in wrangler.toml: the Worker's `queue` handler dispatches batches by it. */
export const MAIL_QUEUE_NAME = "boxoffice-mail";

export interface MailTask {
  kind: "mail";
  /** The ticket e-mail's id (`ticket_emails.id`). */
  id: string;
}

export const isMailTask = (body: unknown): body is MailTask =>
  typeof body === "object" &&
  body !== null &&
  (body as MailTask).kind === "mail" &&
  typeof (body as MailTask).id === "string";

export const sendMailTasks = (queue: Queue, ids: string[]) =>
  sendAll(
    queue,
    ids.map((id): MailTask => ({ kind: "mail", id })),
  );
