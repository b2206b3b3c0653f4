/**
 * drop: a sell-out drop through the event's queue. 3,000 buyers, each a client address of its own
 * (smoke: 300): 2,700 join over the first 10 s, before `opensAt` (start + 20 s), the other 300 after
 * it opens, one after another, 30 ms apart. The queue admits 1,000 a minute (smoke: 600), so the tier
 * of 500 (smoke: 50) takes about 30 s (smoke: 5 s) of admissions to sell; every buyer polls its entry
 * as `pollAfterSeconds` says until admitted (all are, the late ones behind every early one), then
 * reserves one ticket with its pass, checks out and pays (signed webhook), or is refused SOLD_OUT. A
 * bot, one address, joins 200 times (smoke: 60) while the early buyers join, and reserves 200 times
 * without a pass at `opensAt`; 30 fresh addresses (smoke: 9) reserve with no pass, a forged pass or
 * no pass at all.
 *
 * Pass: the tier sold exactly out (0 oversold, 0 lost payments, one pass used per sale); no
 * reservation without a valid pass got through (each refused 403 ADMISSION_* or 429); the bot's joins
 * were rate-limited; every buyer was admitted; the early joiners were admitted in an order independent
 * of their join order, the late ones in join order (admission-order.ts); the tier's object saw no
 * more reservation attempts a second than the queue lets through (admitPerMinute / 60 ×
 * passReservations); join, poll and reserve p95 < 500 ms.
 */
import { clientHeader, nextAddress } from "../../common/clients.ts";
import { createEvent } from "../../common/events.ts";
import type { QueueSettings } from "../../common/queue.ts";
import { admissionOrder, orderThresholds, type QueuedBuyer } from "../admission-order.ts";
import { checkSale, eventStats, tierAttempts } from "../checks.ts";
import { botJoins, botReservations, PASSLESS_KINDS, passlessReservations } from "../drop-bots.ts";
import { measured, runVus } from "../engine.ts";
import { awaitAdmission, join } from "../queue-steps.ts";
import { buy } from "../steps.ts";
import { atLeast, atMost, exactly, latencyBelow, type SuiteScenario } from "../thresholds.ts";

const SETTINGS = {
  full: {
    earlyBuyers: 2700,
    laterBuyers: 300,
    capacity: 500,
    admitPerMinute: 1000,
    opensInSeconds: 20,
    earlyJoinSeconds: 10,
    laterSpacingMs: 30,
    botJoins: 200,
    botReservations: 200,
    passless: 30,
    maxSecondsAfterOpen: 360,
  },
  smoke: {
    earlyBuyers: 270,
    laterBuyers: 30,
    capacity: 50,
    admitPerMinute: 600,
    opensInSeconds: 5,
    earlyJoinSeconds: 1.5,
    laterSpacingMs: 30,
    botJoins: 60,
    botReservations: 60,
    passless: 9,
    maxSecondsAfterOpen: 90,
  },
};

/** The bot's (and the pass forgers') requests in flight at once. */
const BOT_CONCURRENCY = 10;
/** How long after `opensAt` the first late buyer joins. */
const LATER_AFTER_OPEN_MS = 500;

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 10) / 100);

export const drop: SuiteScenario = {
  name: "drop",
  description: "3,000 buyers through a drop queue for 500 tickets, 300 of them late, and a bot",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke ? SETTINGS.smoke : SETTINGS.full;
    const opensAt = Date.now() + settings.opensInSeconds * 1000;
    const queue: QueueSettings = { opensAt: new Date(opensAt).toISOString(), admitPerMinute: settings.admitPerMinute };
    const event = await createEvent(ctx, "Load: drop", { price: 2500, capacity: settings.capacity }, { queue });
    const stored = await ctx.api<{ queue: Required<QueueSettings> | null }>("GET", `/v1/events/${event.id}`);
    if (!stored.queue) throw new Error(`the event ${event.id} was created without its queue`);
    const { passReservations, passSeconds } = stored.queue;

    const { metrics, http } = measured(ctx.baseUrl);
    const startedAt = performance.now();
    const deadline = startedAt + (settings.opensInSeconds + settings.maxSecondsAfterOpen) * 1000;
    const untilOpen = () => opensAt - Date.now();
    const buyers: QueuedBuyer[] = [];
    const joins = { early: 0, later: 0 };
    const paidByClients = new Set<string>();
    const outcomes = { paid: 0, soldOut: 0, failed: 0 };
    let firstSoldOutAt: number | null = null;
    let lastPaidAt: number | null = null;
    // The first pass a buyer is given (the forgers alter it); null if none comes before the deadline.
    const firstPass = Promise.withResolvers<string | null>();
    const noPass = setTimeout(() => firstPass.resolve(null), deadline - startedAt);
    // The late buyers' turns: each joins once the one before was answered, `laterSpacingMs` after it set off.
    const turns = Array.from({ length: settings.laterBuyers + 1 }, () => Promise.withResolvers<void>());
    setTimeout(() => turns[0]?.resolve(), untilOpen() + LATER_AFTER_OPEN_MS);

    /** One buyer: join, poll until admitted, reserve with the pass, check out and pay. */
    const journey = async (group: QueuedBuyer["group"], index: number) => {
      const address = nextAddress("buyer");
      const headers = clientHeader(address);
      const setOff = performance.now();
      const entry = await join(http, metrics, event.id, headers);
      const buyer: QueuedBuyer = { group, joinSeq: joins[group]++, joinedAt: Date.now() };
      buyers.push(buyer);
      if (group === "later") {
        const next = turns[index + 1];
        setTimeout(() => next?.resolve(), settings.laterSpacingMs - (performance.now() - setOff));
      }
      if (!entry) return;
      const admitted = await awaitAdmission(http, metrics, entry, headers, deadline);
      if (!admitted) return;
      buyer.admitted = admitted;
      firstPass.resolve(admitted.pass);
      const purchase = await buy(http, metrics, ctx.webhookSecret, event, true, { address, pass: admitted.pass });
      if (purchase.kind === "paid") {
        paidByClients.add(purchase.order.orderId);
        lastPaidAt = Date.now();
        outcomes.paid++;
      } else if (purchase.kind === "sold_out") {
        firstSoldOutAt ??= Date.now();
        outcomes.soldOut++;
      } else outcomes.failed++;
    };

    const botAddress = nextAddress("buyer");
    const roles: (() => Promise<void>)[] = [
      () => botJoins(http, metrics, event.id, botAddress, settings.botJoins, BOT_CONCURRENCY),
      async () => {
        await sleepMs(untilOpen());
        await botReservations(http, metrics, event, botAddress, settings.botReservations, BOT_CONCURRENCY);
      },
      async () => {
        const pass = await firstPass.promise;
        if (pass !== null) await passlessReservations(http, metrics, event, pass, settings.passless, BOT_CONCURRENCY);
      },
    ];
    for (let i = 0; i < settings.earlyBuyers; i++) {
      roles.push(async () => {
        await sleepMs(startedAt + (i * settings.earlyJoinSeconds * 1000) / settings.earlyBuyers - performance.now());
        await journey("early", i);
      });
    }
    for (let k = 0; k < settings.laterBuyers; k++) {
      roles.push(async () => {
        await turns[k]?.promise;
        await journey("later", k);
      });
    }
    await runVus(metrics, {
      vus: roles.length,
      iterationsPerVu: 1,
      async iteration(vu) {
        await (roles[vu] as () => Promise<void>)();
        return "done";
      },
    });
    clearTimeout(noPass);

    const [sale, stats, attempts] = await Promise.all([
      checkSale(ctx, event, paidByClients),
      eventStats(ctx, event),
      tierAttempts(ctx, event.tierId),
    ]);
    const order = admissionOrder(buyers, passSeconds);
    const { firstAdmittedAt, ...orderFacts } = order;
    const early = buyers.filter((b) => b.group === "early");
    const notAdmitted = settings.earlyBuyers + settings.laterBuyers - buyers.filter((b) => b.admitted).length;
    const attemptBound = Math.ceil((settings.admitPerMinute / 60) * passReservations);
    const statuses = (name: string) => metrics.requests.get(name)?.statuses ?? {};
    const bot = { join: statuses("bot join"), reserve: statuses("bot reserve") };
    const passless = Object.fromEntries(PASSLESS_KINDS.map((k) => [k, statuses(`reserve, ${k}`)]));
    const withoutPass201 = [bot.reserve, ...Object.values(passless)].reduce((n, s) => n + (s["201"] ?? 0), 0);
    const reserves = Object.values(statuses("reserve")).reduce((a, b) => a + b, 0);
    const counted = attempts.perSecond.reduce((n, p) => n + p.attempts, 0);
    const p95 = (name: string) => metrics.requests.get(name)?.latency.summary().p95 ?? null;
    const sinceOpen = (at: number | null) => seconds(at === null ? null : at - opensAt);
    return {
      eventId: event.id,
      settings: { ...settings, passReservations, passSeconds, opensAt: queue.opensAt },
      metrics,
      facts: {
        ...sale.facts,
        joinP95Ms: p95("join"),
        pollP95Ms: p95("poll"),
        earlyJoinsDoneSecondsBeforeOpen: seconds(opensAt - Math.max(...early.map((b) => b.joinedAt))),
        opensAtToFirstAdmissionSeconds: sinceOpen(firstAdmittedAt),
        opensAtToFirstSoldOutSeconds: sinceOpen(firstSoldOutAt),
        opensAtToLastTicketPaidSeconds: sinceOpen(lastPaidAt),
        buyers: { joined: buyers.length, admitted: buyers.length - notAdmitted, ...outcomes },
        order: orderFacts,
        queue: stats.queue,
        attempts: {
          peakPerSecond: attempts.peakPerSecond,
          bound: attemptBound,
          counted,
          seconds: attempts.perSecond.length,
          busiest: [...attempts.perSecond].sort((a, b) => b.attempts - a.attempts).slice(0, 3),
        },
        bot,
        passless,
      },
      thresholds: [
        exactly("tickets sold (the tier sold out, every hold paid)", sale.facts.tier.sold, settings.capacity),
        exactly("paid orders", sale.facts.paidOrders, settings.capacity),
        ...sale.thresholds,
        exactly("passes used (stats: one a sale)", stats.queue?.passesUsed ?? -1, settings.capacity),
        exactly("reservations without a valid pass answered 201", withoutPass201, 0),
        atLeast("bot joins answered 429 (joins count toward the rate limit)", bot.join["429"] ?? 0, 1),
        exactly("early joins answered after opensAt", early.filter((b) => b.joinedAt >= opensAt).length, 0),
        exactly("buyers never admitted", notAdmitted, 0),
        ...orderThresholds(order),
        atMost("reservation attempts a second at the tier's object (peak)", attempts.peakPerSecond, attemptBound),
        {
          // The measurement saw the sale: every sale's attempt, and none that was not one of the buyers'.
          name: `reservation attempts the tier's object counted, between ${settings.capacity} and ${reserves}`,
          ok: counted >= settings.capacity && counted <= reserves,
          actual: String(counted),
        },
        latencyBelow(metrics, "join", 95, 500),
        latencyBelow(metrics, "poll", 95, 500),
        latencyBelow(metrics, "reserve", 95, 500),
      ],
    };
  },
};
