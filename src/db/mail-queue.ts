/**
 * What goes on the mail queue (Cloudflare Queues, `MAIL_QUEUE`; wrangler.toml): a pointer to one ticket
 * e-mail's row in D1 (`ticket_emails`), never the message, so each wake-up reads the e-mail as it stands
 * and a pointer sent twice does no harm (an attempt is claimed in D1 first). The queue message carries
 * its e-mail from attempt to attempt, retried with `message.retry({ delaySeconds })`.
 */

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

/** Queues takes at most 100 messages a `sendBatch`. */
const SEND_BATCH = 100;

export async function sendMailTasks(queue: Queue, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += SEND_BATCH) {
    await queue.sendBatch(
      ids
        .slice(i, i + SEND_BATCH)
        .map((id) => ({ body: { kind: "mail", id } satisfies MailTask, contentType: "json" })),
    );
  }
}
