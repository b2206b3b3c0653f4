/**
 * scanner-race: 10 scanners scan the same ticket at the same instant (a barrier releases all ten
 * requests in one tick), a fresh ticket each round, 50 rounds (smoke: 5). Pass: exactly one admission
 * a round (one 200, nine 409 ALREADY_CHECKED_IN).
 */
import { Barrier, httpClient, Metrics, runVus } from "../engine.ts";
import { exactly, type SuiteScenario } from "../scenario.ts";
import { addScanners, createEvent, eventStats, freeTickets } from "../setup.ts";

export const scannerRace: SuiteScenario = {
  name: "scanner-race",
  description: "10 scanners on one ticket at the same instant, a fresh ticket each of 50 rounds",
  pays: false,
  async run(ctx) {
    const settings = ctx.smoke ? { scanners: 10, rounds: 5 } : { scanners: 10, rounds: 50 };
    // Free tickets come in orders of 10.
    const capacity = Math.ceil(settings.rounds / 10) * 10;
    const event = await createEvent(ctx, "scanner-race", { price: 0, capacity });
    const [codes, tokens] = await Promise.all([
      freeTickets(ctx, event, settings.rounds),
      addScanners(ctx, event.id, settings.scanners),
    ]);
    const admissions = new Array<number>(settings.rounds).fill(0);
    const barrier = new Barrier(settings.scanners);
    const metrics = new Metrics();
    const http = httpClient(ctx.baseUrl, metrics);
    await runVus(metrics, {
      vus: settings.scanners,
      iterationsPerVu: settings.rounds,
      async iteration(vu, round) {
        await barrier.arrive();
        const r = await http.request<{ result?: string; code?: string }>("checkin", "POST", "/v1/checkins", {
          body: { code: codes[round] },
          token: tokens[vu],
          expect: [200, 409],
        });
        if (r.status === 200) admissions[round] = (admissions[round] ?? 0) + 1;
        metrics.check(
          "checkin: 200 admitted, or 409 ALREADY_CHECKED_IN",
          (r.status === 200 && r.body.result === "admitted") ||
            (r.status === 409 && r.body.code === "ALREADY_CHECKED_IN"),
          `${r.status} ${r.body?.result ?? r.body?.code}`,
        );
        return undefined;
      },
    });
    const stats = await eventStats(ctx, event);
    const exactlyOne = admissions.filter((n) => n === 1).length;
    return {
      eventId: event.id,
      settings,
      metrics,
      facts: {
        roundsWithOneAdmission: exactlyOne,
        roundsWithNone: admissions.filter((n) => n === 0).length,
        roundsWithSeveral: admissions.filter((n) => n > 1).length,
        statsCheckins: stats.checkins,
      },
      thresholds: [
        exactly("rounds with exactly one admission", exactlyOne, settings.rounds),
        exactly("admitted (stats)", stats.checkins.admitted, settings.rounds),
      ],
    };
  },
};
