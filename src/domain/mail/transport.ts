/**
 * How a composed e-mail leaves: through Cloudflare Email Service's sending binding (`EMAIL`, wrangler.toml
 * `[[send_email]]`; `env.EMAIL.send({ from, to, subject, text, html })` answers `{ messageId }` and throws
 * an Error with a string `code` such as `E_SENDER_NOT_VERIFIED` when it refuses), or, with
 * `MAIL_MODE=simulator`, nowhere: the message is kept in D1 for `GET /dev/mail` and the binding is never
 * called. One object holds both ways, so that a test can make one of them fail.
 */
import type { Db } from "../../db/client";
import { simulatedMail } from "../../db/schema";

export interface OutgoingMail {
  /** The ticket e-mail's id: the simulator keeps a message once under it. */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface SentMail {
  /** The sender's id of the message (the binding's `messageId`; the e-mail's own id in the simulator). */
  messageId: string;
}

export const isSimulated = (env: Pick<Env, "MAIL_MODE">) => env.MAIL_MODE === "simulator";

/** An error as the audit log and `lastError` keep it: the binding's `code`, and its message. */
export function sendError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === "string" && code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, 300);
}

export const transports = {
  /** Email Service: the message goes to the buyer. */
  async live(env: Env, mail: OutgoingMail): Promise<SentMail> {
    const sent = await env.EMAIL.send({
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
    return { messageId: sent.messageId };
  },

  /** The simulator: the message is kept (once) for `GET /dev/mail`; nothing leaves the machine. */
  async simulator(db: Db, mail: OutgoingMail, now: number): Promise<SentMail> {
    await db
      .insert(simulatedMail)
      .values({
        id: mail.id,
        recipient: mail.to,
        sender: mail.from,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        sentAt: now,
      })
      .onConflictDoNothing();
    return { messageId: mail.id };
  },
};

export function deliverMail(env: Env, db: Db, mail: OutgoingMail, now: number): Promise<SentMail> {
  return isSimulated(env) ? transports.simulator(db, mail, now) : transports.live(env, mail);
}
