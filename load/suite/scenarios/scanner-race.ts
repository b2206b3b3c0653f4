/**
 * scanner-race: 10 scanners scan the same ticket at the same instant (a barrier releases all ten
 * requests in one tick, in a random order), a fresh ticket each round, 50 rounds (smoke: 5). Pass:
 * exactly one admission a round (one 200, nine 409 ALREADY_CHECKED_IN); reported: how often each
 * scanner won.
 */

import { Client } from "../../common/clients.ts";
import { issueTickets } from "../../common/door.ts";
import { addScanners, createEvent } from "../../common/events.ts";
import { eventStats } from "../checks.ts";
import { Barrier, measured, runVus } from "../engine.ts";
import { scan } from "../steps.ts";
import { exactly, type SuiteScenario } from "../thresholds.ts";

export const scannerRace: SuiteScenario = {
  name: "scanner-race",
  description: "10 scanners on one ticket at the same instant, a fresh ticket each of 50 rounds",
  pays: false,
  async run(ctx) {
    const settings = ctx.smoke ? { scanners: 10, rounds: 5 } : { scanners: 10, rounds: 50 };
    // Free tickets come in orders of 10.
    const capacity = Math.ceil(settings.rounds / 10) * 10;
    const event = await createEvent(ctx, "Load: scanner-race", { price: 0, capacity });
    const [codes, tokens] = await Promise.all([
      issueTickets(ctx, event, settings.rounds),
      addScanners(ctx, event.id, settings.scanners),
    ]);
    const admissions = new Array<number>(settings.rounds).fill(0);
    const wins = new Array<number>(settings.scanners).fill(0);
    let refused = 0;
    const barrier = new Barrier(settings.scanners);
    // Each scanner a client of its own (common/clients.ts).
    const scanners = tokens.map(() => new Client("scanner"));
    const { metrics, http } = measured(ctx.baseUrl);
    await runVus(metrics, {
      vus: settings.scanners,
      iterationsPerVu: settings.rounds,
      async iteration(vu, round) {
        await barrier.arrive();
        const outcome = await scan(http, metrics, codes[round] as string, tokens[vu] as string, scanners[vu] as Client);
        if (outcome === "admitted") {
          admissions[round] = (admissions[round] ?? 0) + 1;
          wins[vu] = (wins[vu] ?? 0) + 1;
        }
        if (outcome === "refused") refused++;
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
        winsByScanner: wins,
        statsCheckins: stats.checkins,
      },
      thresholds: [
        exactly("rounds with exactly one admission", exactlyOne, settings.rounds),
        exactly("scans refused 409 ALREADY_CHECKED_IN", refused, settings.rounds * (settings.scanners - 1)),
        exactly("admitted (stats)", stats.checkins.admitted, settings.rounds),
      ],
    };
  },
};
