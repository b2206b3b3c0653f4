/**
 * dashboard: 20 organisers (smoke: 4) poll an event that has sold 100 tickets (smoke: 20): each reads
 * its stats, its availability and the latest page of its audit log, then waits out the rest of a
 * one-second poll interval, for 30 s (smoke: 5 s). Pass: http_req_duration p95 < 3 s; and every poll
 * answered 200 with the right content (checks: the sold count the event really has, what is left, a
 * full page of the audit log). Each organiser is a client of its own (common/clients.ts) for its
 * availability reads, a buyer route the service limits per client; its organiser routes are not.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { payOrders, pendingOrders } from "../../common/buyers.ts";
import { Client } from "../../common/clients.ts";
import { createEvent } from "../../common/events.ts";
import { type EventStats, saleFacts } from "../checks.ts";
import { measured, runVus } from "../engine.ts";
import { exactly, latencyBelow, type SuiteScenario } from "../thresholds.ts";

const POLL_MS = 1000;

export const dashboard: SuiteScenario = {
  name: "dashboard",
  description: "20 organisers polling stats, availability and the audit log every second for 30 s",
  pays: true,
  async run(ctx) {
    const settings = ctx.smoke
      ? { vus: 4, seconds: 5, soldBefore: 20, pollMs: POLL_MS }
      : { vus: 20, seconds: 30, soldBefore: 100, pollMs: POLL_MS };
    const event = await createEvent(ctx, "Load: dashboard", { price: 2500, capacity: 1000 });
    await payOrders(ctx, await pendingOrders(ctx, event, settings.soldBefore, 16));
    const { metrics, http } = measured(ctx.baseUrl);
    const auth = { token: ctx.adminToken, expect: [200] };
    const organisers = Array.from({ length: settings.vus }, () => new Client("organiser"));
    await runVus(metrics, {
      vus: settings.vus,
      durationSeconds: settings.seconds,
      async iteration(vu) {
        const started = performance.now();
        const stats = await http.request<EventStats>("stats", "GET", `/v1/events/${event.id}/stats`, auth);
        metrics.check(
          "stats: 200 with the sold count",
          stats.ok && stats.body.tiers[0]?.sold === settings.soldBefore,
          `${stats.status} sold ${stats.body?.tiers?.[0]?.sold}`,
        );
        const availability = await http.request<{ tiers: { available: number }[] }>(
          "availability",
          "GET",
          `/v1/events/${event.id}/availability`,
          { headers: (organisers[vu] as Client).header(), expect: [200] },
        );
        metrics.check(
          "availability: 200 with what is left",
          availability.ok && availability.body.tiers[0]?.available === event.capacity - settings.soldBefore,
          `${availability.status} available ${availability.body?.tiers?.[0]?.available}`,
        );
        const audit = await http.request<{ entries: unknown[] }>(
          "audit",
          "GET",
          `/v1/events/${event.id}/audit?limit=50`,
          auth,
        );
        metrics.check(
          "audit: 200 with a full page",
          audit.ok && audit.body.entries.length === 50,
          `${audit.status} ${audit.body?.entries?.length} entries`,
        );
        const rest = settings.pollMs - (performance.now() - started);
        if (rest > 0) await sleep(rest);
        return undefined;
      },
    });
    const { facts } = await saleFacts(ctx, event);
    return {
      eventId: event.id,
      settings,
      metrics,
      facts,
      thresholds: [
        latencyBelow(metrics, null, 95, 3000),
        exactly("paid orders", facts.paidOrders, settings.soldBefore),
      ],
    };
  },
};
