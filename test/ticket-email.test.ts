/**
 * The ticket e-mail (docs/api.md, "E-mail"): one per paid order however often Stripe reports the payment,
 * sent from the mail queue; its text and HTML list the tickets and its link opens the tickets page; the
 * resend route; a failed send retried on the schedule and audited; the simulator's `GET /dev/mail`; and the
 * live path through the Email Service binding.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { MAX_ATTEMPTS, paidEmailId, RETRY_DELAYS_S, runTicketEmail } from "../src/domain/mail/ticket-emails";
import { transports } from "../src/domain/mail/transport";
import { SWEEP_CRON } from "../src/domain/webhooks/sweep";
import worker from "../src/index";
import { deliver } from "./fake-stripe";
import { ADMIN_TOKEN, api, auditActions, createEvent, reserve } from "./helpers";
import { completedEvent, standingAndSeatA2, useFakeStripe } from "./payments";
import { useWebhookQueue } from "./webhook-queue";
import { count } from "./webhooks";

const stripe = useFakeStripe();
const queue = useWebhookQueue();

interface Mail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  sentAt: string;
}

let buyers = 0;

/** The messages the simulator kept for `to`, newest first, through GET /dev/mail. */
async function mailTo(to: string): Promise<Mail[]> {
  const res = await api<{ messages: Mail[] }>("GET", "/dev/mail");
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.body.messages.filter((m) => m.to === to);
}

/** Two standing tickets and seat A2, checked out by a buyer of the test's own; not paid yet. */
async function checkedOut() {
  const email = `buyer-${++buyers}@example.com`;
  const { event, reservation, order, session } = await standingAndSeatA2(stripe, "Night of the <mail> & more", email);
  return { event, email, reservation, orderId: order.orderId as string, token: order.orderToken as string, session };
}

/** A paid order: Stripe's webhook delivered, nothing run on the queues yet. */
async function paidOrder() {
  const order = await checkedOut();
  expect((await deliver(completedEvent(order.session))).status).toBe(200);
  return order;
}

const resend = (orderId: string, token: string | null, headers: Record<string, string> = {}) =>
  api("POST", `/v1/orders/${orderId}/resend`, { token, headers });

const fakeClock = () => vi.useFakeTimers({ toFake: ["Date"] });
/** The first step of the schedule, in ms. */
const FIRST_RETRY_MS = (RETRY_DELAYS_S[0] as number) * 1000;

describe("the ticket e-mail of a paid order", () => {
  it("is sent once, however often Stripe reports the payment and the queues deliver their messages", async () => {
    const { event, email, orderId, session } = await paidOrder();
    // Stripe duplicates its events, and may send the same payment under another event id.
    expect((await deliver(completedEvent(session))).status).toBe(200);
    expect((await deliver({ ...completedEvent(session), id: "evt_mail_again" })).status).toBe(200);
    await queue.drain();

    expect(await mailTo(email)).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM ticket_emails WHERE order_id = ?", orderId)).toBe(1);
    // Everything again (a duplicated queue message, the sweep): nothing is sent twice.
    for (const task of [...queue.sent]) await env.WEBHOOK_QUEUE.send(task.body);
    for (const task of [...queue.mailSent]) await env.MAIL_QUEUE.send(task.body);
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(1);

    const sent = await auditActions(event.id, "email.sent");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      subject: { id: orderId },
      data: { emailId: paidEmailId(orderId), orderId, to: email, reason: "paid", attempts: 1, simulated: true },
    });
    expect(await auditActions(event.id, "email.failed")).toEqual([]);
  });

  it("lists the event and each ticket in its text and HTML, and its link opens the buyer's tickets page", async () => {
    const { email, orderId, token } = await paidOrder();
    await queue.drain();
    const [mail] = await mailTo(email);
    if (!mail) throw new Error("no e-mail");
    expect(mail.id).toBe(paidEmailId(orderId));
    expect(mail.subject).toBe("Your tickets for Night of the <mail> & more");

    const link = `http://boxoffice.test/tickets/${orderId}?t=${token}`;
    // The text part: the event, its start in its time zone, one line per ticket, the link.
    expect(mail.text).toContain("Your tickets for Night of the <mail> & more");
    expect(mail.text).toContain("Tuesday, 1 June 2027 at 21:30 (Europe/Paris)");
    expect(mail.text).toContain(`Order ${orderId}, 3 tickets:`);
    expect(mail.text.match(/^ {2}\d\. Standing, general admission$/gm)).toHaveLength(2);
    expect(mail.text).toMatch(/^ {2}\d\. Balcony, seat A2$/m);
    expect(mail.text).toContain(`\n${link}\n`);
    // The HTML part says the same, escaped.
    expect(mail.html).toContain("Your tickets for Night of the &lt;mail&gt; &amp; more</h1>");
    expect(mail.html).not.toContain("<mail>");
    expect(mail.html).toContain("Tuesday, 1 June 2027 at 21:30 (Europe/Paris)");
    expect(mail.html.match(/<li[^>]*><strong>Standing<\/strong>, general admission<\/li>/g)).toHaveLength(2);
    expect(mail.html).toMatch(/<li[^>]*><strong>Balcony<\/strong>, seat A2<\/li>/);
    expect(mail.html).toContain(`href="${link}"`);

    // No secret but the link: no ticket code (a code admits at the door), no other token.
    const order = (await api("GET", `/v1/orders/${orderId}`, { token })).body;
    for (const ticket of order.tickets as { code: string }[]) {
      expect(mail.text).not.toContain(ticket.code);
      expect(mail.html).not.toContain(ticket.code);
    }
    for (const part of [mail.text, mail.html]) {
      expect(new Set(part.match(/ordtok_[\w-]+/g))).toEqual(new Set([token]));
      expect(part).not.toMatch(/rsvtok_|whsec_|test-admin-token/);
    }

    // The link, opened through the Worker: the tickets page of this order.
    const url = new URL(mail.text.match(/^http\S+$/m)?.[0] as string);
    expect(url.origin).toBe("http://boxoffice.test");
    const page = await api<string>("GET", `${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("<h1>Night of the &lt;mail&gt; &amp; more</h1>");
    for (const ticket of order.tickets as { id: string }[]) expect(page.body).toContain(`id="${ticket.id}"`);
    expect(page.body).toContain("Seat A2");
  });

  it("is sent for a free order too, paid at checkout", async () => {
    const event = await createEvent([{ name: "Free entry", capacity: 5, price: 0 }]);
    const reservation = (await reserve(event.id, [{ tierId: event.tiers[0]?.id as string, quantity: 1 }])).body;
    const email = `free-${++buyers}@example.com`;
    const free = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
      token: reservation.token,
      body: { email },
    });
    expect(free.body.status).toBe("paid");
    await queue.drain();
    const [mail] = await mailTo(email);
    expect(mail?.text).toMatch(/^ {2}1\. Free entry, general admission$/m);
  });

  it("is not sent for an order that is not paid", async () => {
    const { email } = await checkedOut();
    await queue.drain();
    expect(await mailTo(email)).toEqual([]);
  });
});

describe("POST /v1/orders/:orderId/resend", () => {
  it("sends it again (202), with the order token or as the organiser; an Idempotency-Key makes a retry one e-mail", async () => {
    fakeClock();
    const later = () => vi.setSystemTime(Date.now() + 1_000);
    const { event, email, orderId, token } = await paidOrder();
    await queue.drain();

    later();
    const mine = await resend(orderId, token);
    expect(mine.status).toBe(202);
    expect(mine.body).toMatchObject({
      orderId,
      to: email,
      reason: "resend",
      status: "pending",
      attempts: 0,
      lastError: null,
      sentAt: null,
    });
    expect(mine.body.id).toMatch(new RegExp(`^eml_${orderId}_resend-`));
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(2);

    later();
    expect((await resend(orderId, ADMIN_TOKEN)).status).toBe(202);
    await queue.drain();
    const mails = await mailTo(email);
    expect(mails).toHaveLength(3);
    // Newest first, each under its own id, all alike.
    expect(new Set(mails.map((m) => m.id)).size).toBe(3);
    expect(mails[2]?.id).toBe(paidEmailId(orderId));
    expect(new Set(mails.map((m) => m.text)).size).toBe(1);

    later();
    const headers = { "Idempotency-Key": "resend-once" };
    const first = await resend(orderId, token, headers);
    const again = await resend(orderId, token, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(4);

    const sent = await auditActions(event.id, "email.sent");
    expect(sent.map((e) => e.data.requestedBy)).toEqual(["buyer", "organiser", "buyer", "system"]);
  });

  it("refuses a missing or wrong token (401), another order's (403), an unknown order (404), a malformed id (400)", async () => {
    const { email, orderId, reservation } = await paidOrder();
    const other = await paidOrder();
    await queue.drain();
    expect((await resend(orderId, null)).status).toBe(401);
    expect((await resend(orderId, reservation.token)).status).toBe(401);
    expect((await resend(orderId, "ordtok_not-a-real-token")).status).toBe(401);
    expect((await resend(orderId, other.token)).status).toBe(403);
    expect((await resend("ord_0000000000000000000000", ADMIN_TOKEN)).status).toBe(404);
    expect((await resend("nope", ADMIN_TOKEN)).status).toBe(400);
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(1);
    expect(await mailTo(other.email)).toHaveLength(1);
  });

  it("refuses an order that was never paid: 409 ORDER_NOT_PAID", async () => {
    const { email, orderId, token } = await checkedOut();
    const res = await resend(orderId, token);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: "ORDER_NOT_PAID", orderStatus: "pending_payment" });
    expect((await resend(orderId, ADMIN_TOKEN)).status).toBe(409);
    await queue.drain();
    expect(await mailTo(email)).toEqual([]);
  });

  it("gives a buyer 5 resends of an order an hour (429 after); the organiser is not limited", async () => {
    fakeClock();
    const { email, orderId, token } = await paidOrder();
    for (let i = 0; i < 5; i++) expect((await resend(orderId, token)).status).toBe(202);
    const refused = await resend(orderId, token);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", reason: "resends" });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(3500);
    expect((await resend(orderId, ADMIN_TOKEN)).status).toBe(202);
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(7);
    vi.setSystemTime(Date.now() + 60 * 60_000 + 1_000);
    expect((await resend(orderId, token)).status).toBe(202);
  });
});

describe("a failed send", () => {
  it("is retried on the schedule: email.failed, then email.sent", async () => {
    fakeClock();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const refusal = Object.assign(new Error("too many messages"), { code: "E_RATE_LIMIT_EXCEEDED" });
    const simulator = vi.spyOn(transports, "simulator").mockRejectedValueOnce(refusal);
    const { event, email, orderId } = await paidOrder();
    await queue.drain();
    expect(simulator).toHaveBeenCalledTimes(1);
    expect(await mailTo(email)).toEqual([]);
    const failed = await auditActions(event.id, "email.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({
      emailId: paidEmailId(orderId),
      attempt: 1,
      error: "E_RATE_LIMIT_EXCEEDED: too many messages",
      nextAttemptAt: new Date(Date.now() + FIRST_RETRY_MS).toISOString(),
    });

    await queue.advance(FIRST_RETRY_MS - 1_000);
    expect(await mailTo(email)).toEqual([]); // not yet: the first step is 30 s
    await queue.advance(1_000);
    expect(await mailTo(email)).toHaveLength(1);
    const entries = (await auditActions(event.id)).filter((e) => e.action.startsWith("email."));
    // Newest first.
    expect(entries.map((e) => e.action)).toEqual(["email.sent", "email.failed"]);
    expect(entries[0]?.data).toMatchObject({ attempts: 2 });
    const row = await env.DB.prepare("SELECT status, attempts, last_error FROM ticket_emails WHERE id = ?")
      .bind(paidEmailId(orderId))
      .first();
    expect(row).toEqual({ status: "sent", attempts: 2, last_error: null });
  });

  it("is failed after its last attempt, each failure audited", async () => {
    fakeClock();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(transports, "simulator").mockRejectedValue(new Error("the sender is down"));
    const { event, email, orderId } = await paidOrder();
    await queue.drain();
    while (await queue.next()) {
      // Each step of the schedule in turn.
    }
    expect(await mailTo(email)).toEqual([]);
    const failed = await auditActions(event.id, "email.failed");
    expect(failed.map((e) => e.data.attempt)).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => MAX_ATTEMPTS - i));
    expect(failed[0]?.data.nextAttemptAt).toBeNull();
    const row = await env.DB.prepare("SELECT status, attempts FROM ticket_emails WHERE id = ?")
      .bind(paidEmailId(orderId))
      .first();
    expect(row).toEqual({ status: "failed", attempts: MAX_ATTEMPTS });
  });

  it("whose queue message was lost is queued again by the per-minute sweep", async () => {
    fakeClock();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(transports, "simulator").mockRejectedValueOnce(new Error("the sender is busy"));
    const { email } = await paidOrder();
    await queue.drain();
    queue.loseAll();
    await queue.advance(FIRST_RETRY_MS + 4 * 60_000);
    const sweep = () =>
      worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: SWEEP_CRON }), env);
    await sweep();
    await queue.drain();
    expect(await mailTo(email)).toEqual([]); // not 5 minutes overdue yet
    await queue.advance(61_000);
    await sweep();
    await queue.drain();
    expect(await mailTo(email)).toHaveLength(1);
  });

  it("is never sent with a link that would not open (APP_SECRET changed since checkout): failed at once", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { event, email, orderId } = await paidOrder();
    // The order's e-mail, written but not run yet: run it under another secret.
    const rotated = { ...env, APP_SECRET: "another-app-secret-0123456789abcdef" };
    await env.DB.prepare(
      `INSERT INTO ticket_emails (id, order_id, event_id, reason, recipient, requested_by, status, attempts,
         next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'paid', ?, 'system', 'pending', 0, 0, 0, 0)`,
    )
      .bind(paidEmailId(orderId), orderId, event.id, email)
      .run();
    expect(await runTicketEmail(rotated, createDb(env.DB), paidEmailId(orderId))).toBeNull();
    const row = await env.DB.prepare("SELECT status, attempts, last_error FROM ticket_emails WHERE id = ?")
      .bind(paidEmailId(orderId))
      .first<{ status: string; attempts: number; last_error: string }>();
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row?.last_error).toContain("APP_SECRET changed");
    expect(await mailTo(email)).toEqual([]);
  });

  it("uses up no attempt while its order cannot be read or composed: the queue retries, then it is sent", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { event, email, orderId } = await paidOrder();
    const db = createDb(env.DB);
    const state = () =>
      env.DB.prepare("SELECT status, attempts, next_attempt_at AS at FROM ticket_emails WHERE id = ?")
        .bind(paidEmailId(orderId))
        .first<{ status: string; attempts: number; at: number }>();
    // Written but not run yet, for an order D1 does not have (yet).
    await env.DB.prepare(
      `INSERT INTO ticket_emails (id, order_id, event_id, reason, recipient, requested_by, status, attempts,
         next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'paid', ?, 'system', 'pending', 0, 0, 0, 0)`,
    )
      .bind(paidEmailId("ord_not_yet"), "ord_not_yet", event.id, email)
      .run();
    await expect(runTicketEmail(env, db, paidEmailId("ord_not_yet"))).rejects.toThrow("is not in D1");
    const missing = await env.DB.prepare("SELECT status, attempts FROM ticket_emails WHERE id = ?")
      .bind(paidEmailId("ord_not_yet"))
      .first();
    expect(missing).toEqual({ status: "pending", attempts: 0 });

    // The order's own e-mail, written but not run yet; composing it fails (an event D1 holds wrongly).
    await env.DB.prepare(
      `INSERT INTO ticket_emails (id, order_id, event_id, reason, recipient, requested_by, status, attempts,
         next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'paid', ?, 'system', 'pending', 0, 0, 0, 0)`,
    )
      .bind(paidEmailId(orderId), orderId, event.id, email)
      .run();
    const zone = await env.DB.prepare("SELECT timezone FROM events WHERE id = ?")
      .bind(event.id)
      .first<string>("timezone");
    await env.DB.prepare("UPDATE events SET timezone = 'Not/A_Zone' WHERE id = ?").bind(event.id).run();
    try {
      await expect(runTicketEmail(env, db, paidEmailId(orderId))).rejects.toThrow();
    } finally {
      await env.DB.prepare("UPDATE events SET timezone = ? WHERE id = ?").bind(zone, event.id).run();
    }
    expect(await state()).toEqual({ status: "pending", attempts: 0, at: 0 });
    expect(await auditActions(event.id, "email.failed")).toEqual([]);

    expect(await runTicketEmail(env, db, paidEmailId(orderId))).toBeNull();
    expect(await state()).toMatchObject({ status: "sent", attempts: 1 });
    expect(await mailTo(email)).toHaveLength(1);
  });
});

describe("the live mode, through the Email Service binding", () => {
  afterEach(() => {
    env.MAIL_MODE = "simulator";
    env.MAIL_FROM = "tickets@boxoffice.test";
  });

  it("sends through env.EMAIL with MAIL_FROM, the text and the HTML, and keeps nothing for /dev/mail", async () => {
    const send = vi.spyOn(env.EMAIL, "send").mockResolvedValue({ messageId: "<live-1@boxoffice.test>" });
    env.MAIL_MODE = "live";
    const { event, email, orderId, token } = await paidOrder();
    await queue.drain();
    expect(send).toHaveBeenCalledTimes(1);
    const message = send.mock.calls[0]?.[0] as {
      from: string;
      to: string;
      subject: string;
      text: string;
      html: string;
    };
    expect(message).toMatchObject({ from: "tickets@boxoffice.test", to: email });
    expect(message.subject).toContain("Night of the <mail> & more");
    expect(message.text).toContain(`http://boxoffice.test/tickets/${orderId}?t=${token}`);
    expect(message.html).toContain("<strong>Balcony</strong>, seat A2");
    const [sent] = await auditActions(event.id, "email.sent");
    expect(sent?.data).toMatchObject({ messageId: "<live-1@boxoffice.test>", simulated: false });
    env.MAIL_MODE = "simulator";
    expect(await mailTo(email)).toEqual([]);
  });

  it("without MAIL_FROM, fails the attempt with why (email.failed) and tries again once it is set", async () => {
    fakeClock();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const send = vi.spyOn(env.EMAIL, "send").mockResolvedValue({ messageId: "<live-2@boxoffice.test>" });
    env.MAIL_MODE = "live";
    env.MAIL_FROM = "";
    const { event } = await paidOrder();
    await queue.drain();
    expect(send).not.toHaveBeenCalled();
    const [failed] = await auditActions(event.id, "email.failed");
    expect(failed?.data.error).toContain("MAIL_FROM is not set");
    env.MAIL_FROM = "tickets@boxoffice.test";
    await queue.advance(FIRST_RETRY_MS);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("GET /dev/mail is 404 when not in simulator mode", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://boxoffice.test/dev/mail"),
      { ...env, MAIL_MODE: "live" },
      ctx as ExecutionContext,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
  });
});
