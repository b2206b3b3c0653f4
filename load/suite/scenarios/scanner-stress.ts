/**
 * scanner-stress: 5 scanners send 500 scans over 100 free tickets (smoke: 50 over 10), every ticket
 * scanned 5 times in a shuffled order, so 400 are deliberate duplicates, some of them at the same
 * moment at different gates. Each scanner takes the next scan when its last one is answered. Pass:
 * 0 double admissions (no ticket answered 200 twice), every ticket admitted once, each of the other
 * 400 scans refused 409 ALREADY_CHECKED_IN, checkin p95 < 200 ms.
 */

import { Client } from "../../common/clients.ts";
import { issueTickets } from "../../common/door.ts";
import { addScanners, createEvent } from "../../common/events.ts";
import { eventStats } from "../checks.ts";
import { measured, runVus, shuffled } from "../engine.ts";
import { scan } from "../steps.ts";
import { exactly, latencyBelow, type SuiteScenario } from "../thresholds.ts";

export const scannerStress: SuiteScenario = {
  name: "scanner-stress",
  description: "5 scanners, 500 scans over 100 tickets (each scanned 5 times, shuffled)",
  pays: false,
  async run(ctx) {
    const settings = ctx.smoke ? { scanners: 5, tickets: 10, scans: 50 } : { scanners: 5, tickets: 100, scans: 500 };
    const event = await createEvent(ctx, "Load: scanner-stress", { price: 0, capacity: settings.tickets });
    const [issued, tokens] = await Promise.all([
      issueTickets(ctx, event, settings.tickets),
      addScanners(ctx, event.id, settings.scanners),
    ]);
    const codes = issued.slice(0, settings.tickets);
    const scans = shuffled(Array.from({ length: settings.scans }, (_, i) => codes[i % codes.length] as string));
    const admitted = new Map<string, number>();
    // Each scanner a client of its own (common/clients.ts).
    const scanners = tokens.map(() => new Client("scanner"));
    const { metrics, http } = measured(ctx.baseUrl);
    let next = 0;
    let refused = 0;
    await runVus(metrics, {
      vus: settings.scanners,
      async iteration(vu) {
        const code = scans[next++];
        if (code === undefined) return "done";
        const outcome = await scan(http, metrics, code, tokens[vu] as string, scanners[vu] as Client);
        if (outcome === "admitted") admitted.set(code, (admitted.get(code) ?? 0) + 1);
        if (outcome === "refused") refused++;
        return next >= scans.length ? "done" : undefined;
      },
    });
    const stats = await eventStats(ctx, event);
    const doubles = [...admitted.values()].filter((n) => n > 1).length;
    const admittedOnce = [...admitted.values()].filter((n) => n === 1).length;
    return {
      eventId: event.id,
      settings,
      metrics,
      facts: {
        ticketsAdmittedOnce: admittedOnce,
        ticketsAdmittedTwiceOrMore: doubles,
        statsCheckins: stats.checkins,
        tierCheckedIn: stats.tier.checkedIn,
      },
      thresholds: [
        exactly("double admissions", doubles, 0),
        exactly("tickets admitted exactly once", admittedOnce, settings.tickets),
        exactly("scans refused 409 ALREADY_CHECKED_IN", refused, settings.scans - settings.tickets),
        exactly("admitted (stats)", stats.checkins.admitted, settings.tickets),
        latencyBelow(metrics, "checkin", 95, 200),
      ],
    };
  },
};
