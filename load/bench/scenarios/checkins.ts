/**
 * Door check-ins: `POST /v1/checkins` from 32 concurrent scanners (the issue's figure, whatever
 * `--connections` says), the requests taking turns over 8 scanner tokens (devices) of one event.
 *
 * - `checkins`: every request admits a fresh ticket (200). A ticket is admitted once, so each phase
 *   gets its own never-scanned codes, issued before the clock starts: free tickets (price 0, so a
 *   checkout pays at once), 10 per order, 16 orders at a time. How many: the warm-up gets 20 per
 *   scanner-second, and its rate sizes the measured phase (that rate × its seconds × 2, at most
 *   20,000; the warm-up's codes never sent count). autocannon sends at most that many, so a run
 *   faster than planned stops early (reported, with its rate over the time it ran) rather than scan
 *   a ticket twice (a 409).
 *   Afterwards the event's check-in list must show a ticket checked in for every 200 (and at most
 *   one per code sent: a request in flight when autocannon stops counting may admit one too).
 * - `checkins-forged`: real codes with one character of the signature changed, so well-formed but not
 *   verifying: every answer is 400 INVALID_TICKET_CODE, refused before any database read. The summary
 *   divides its rate by that of `checkins`.
 *
 * Every scan comes from an address of its own (common/clients.ts): 32 scanners as fast as the service
 * answers would soon go over one client's limit.
 */
import { clientHeader, nextAddress } from "../../common/clients.ts";
import type { ScenarioContext } from "../../common/context.ts";
import { FREE_ORDER_TICKETS, issueTickets } from "../../common/door.ts";
import { addScanners, everyPage } from "../../common/events.ts";
import type { RequestSpec } from "../measure.ts";
import { benchEvent, JSON_HEADERS, preparedCount, requestLoad, type Scenario } from "../scenario.ts";

const SCANNERS = 32;
const DEVICES = 8;
/** For the warm-up: 20 per scanner-second (640/s at 32 scanners), more than a local run admits. */
const WARMUP_TICKETS_PER_SCANNER_SECOND = 20;
const MARGIN = 2;
const MAX_TICKETS = 20_000;

interface Door {
  id: string;
  tierId: string;
  /** The scanner tokens, one per device. */
  tokens: string[];
}

/** One event (per `key`, per server) with one large free tier and its `DEVICES` scanners. */
function doorEvent(ctx: ScenarioContext, key: string): Promise<Door> {
  return ctx.once(`door:${key}`, async () => {
    const event = await benchEvent(ctx, `door:${key}`, { price: 0, perOrder: FREE_ORDER_TICKETS });
    const tokens = await addScanners(ctx, event.id, DEVICES, (i) => (i % 2 ? "North" : "South"));
    return { id: event.id, tierId: event.tierId, tokens };
  });
}

/** A check-in by the `i`th request: the code, and the token of the device whose turn it is. */
function scan(door: Door, code: string, i: number): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify({ code }), headers: { Authorization: `Bearer ${door.tokens[i % DEVICES]}` } };
}

/** The code with the first character of its signature (the last `.` piece) changed: well-formed, not verifying. */
function forge(code: string): string {
  const cut = code.lastIndexOf(".") + 1;
  return `${code.slice(0, cut)}${code[cut] === "A" ? "B" : "A"}${code.slice(cut + 1)}`;
}

/**
 * The event's tickets by door status (its check-in list, paged 1,000 at a time: a few dozen pages, from
 * one client, well under a scanner's limit).
 */
async function ticketStatuses(ctx: ScenarioContext, eventId: string): Promise<Record<string, number>> {
  const tickets = await everyPage<"tickets", { status: string }>(
    ctx,
    `/v1/events/${eventId}/checkin-list`,
    {},
    "tickets",
    1000,
    clientHeader(nextAddress("scanner")),
  );
  const counts: Record<string, number> = {};
  for (const t of tickets) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

interface PhaseRecord {
  /** Codes for the phase: the tickets issued for it, and for the measured phase the warm-up's spare. */
  codes: number;
  issueSeconds: number;
  /** Codes handed to autocannon (sent, or lost with a connection). */
  sent: number;
  /** Responses, whatever their status (the rest were in flight when autocannon stopped counting). */
  answered: number;
  answered200: number;
  answered409: number;
}

interface State {
  /** `spare`: the warm-up's codes never sent, for the measured phase. */
  warmup?: PhaseRecord & { rate: number; spare: string[] };
  measure?: PhaseRecord & { plannedFrom: string };
}

const stateOf = (ctx: ScenarioContext) => ctx.once("checkins:state", async (): Promise<State> => ({}));

export const checkins: Scenario = {
  name: "checkins",
  description:
    "POST /v1/checkins: a fresh free ticket admitted per request (200), 32 concurrent scanners whatever --connections says, over 8 scanner tokens",
  concurrency: "connections",
  connections: SCANNERS,

  async prepare(ctx, phase) {
    const [door, state] = await Promise.all([doorEvent(ctx, "checkins"), stateOf(ctx)]);
    const { n, plannedFrom } = preparedCount(phase, state.warmup?.rate, {
      warmup: Math.ceil(phase.connections * WARMUP_TICKETS_PER_SCANNER_SECOND * phase.seconds),
      margin: MARGIN,
      cap: MAX_TICKETS,
    });
    const spare = phase.kind === "measure" ? (state.warmup?.spare ?? []) : [];
    const started = performance.now();
    const issued = await issueTickets(ctx, door, n - spare.length);
    const issueSeconds = (performance.now() - started) / 1000;
    const codes = [...spare, ...issued];
    ctx.log(
      `  checkins ${phase.kind}: ${issued.length} tickets issued in ${issueSeconds.toFixed(1)}s ` +
        `(${(issued.length / issueSeconds).toFixed(0)}/s), ${spare.length} left from the warm-up; ` +
        `${n} planned from ${plannedFrom}`,
    );
    const record: PhaseRecord = {
      codes: codes.length,
      issueSeconds,
      sent: 0,
      answered: 0,
      answered200: 0,
      answered409: 0,
    };
    const request: RequestSpec = {
      method: "POST",
      path: "/v1/checkins",
      headers: JSON_HEADERS,
      expectStatus: 200,
      // Never past the last code (autocannon sends at most `n`); if it were, a malformed code (400) shows it.
      perRequest: () => scan(door, codes[record.sent] ?? "none-left", record.sent++),
      client: () => nextAddress("scanner"),
    };
    const load = requestLoad(ctx, phase, request, { maxRequests: n });
    return {
      ...load,
      run: async () => {
        const m = await load.run();
        record.answered = m.total;
        record.answered200 = m.statusCodes["200"] ?? 0;
        record.answered409 = m.statusCodes["409"] ?? 0;
        if (phase.kind === "warmup") {
          state.warmup = { ...record, rate: m.requestsPerSec, spare: codes.slice(record.sent) };
        } else state.measure = { ...record, plannedFrom };
        return m;
      },
    };
  },

  /** Tickets checked in, by the event's check-in list: one per 200 (warm-up and measured phase together). */
  async after(ctx) {
    const [door, state] = await Promise.all([doorEvent(ctx, "checkins"), stateOf(ctx)]);
    const measured = state.measure;
    if (!measured) return {};
    const statuses = await ticketStatuses(ctx, door.id);
    const checkedIn = statuses.checked_in ?? 0;
    const sent = (state.warmup?.sent ?? 0) + measured.sent;
    const answered200 = (state.warmup?.answered200 ?? 0) + measured.answered200;
    const answered409 = (state.warmup?.answered409 ?? 0) + measured.answered409;
    const summary = (r: PhaseRecord) => ({
      codesPrepared: r.codes,
      issueSeconds: Math.round(r.issueSeconds * 10) / 10,
      codesSent: r.sent,
      answered200: r.answered200,
      inFlightAtStop: r.sent - r.answered,
    });
    // A code still in flight when autocannon stopped counting may have been admitted too.
    const problems = [
      ...(checkedIn < answered200 ? [`${answered200} check-ins answered 200 but ${checkedIn} tickets checked in`] : []),
      ...(checkedIn > sent ? [`${checkedIn} tickets checked in but only ${sent} codes sent`] : []),
      ...(answered409 > 0 ? [`${answered409} answered 409: a ticket was scanned twice`] : []),
    ];
    return {
      warmup: state.warmup ? { ...summary(state.warmup), ratePerSec: Math.round(state.warmup.rate) } : null,
      measured: { ...summary(measured), plannedFrom: measured.plannedFrom },
      codesSent: sent,
      answered200,
      ticketsInEvent: statuses,
      ticketsCheckedIn: checkedIn,
      ...(problems.length > 0 ? { problems } : {}),
    };
  },
};

/** One order's codes (per server), forged. */
const forgedCodes = (ctx: ScenarioContext, door: Door) =>
  ctx.once("checkins-forged:codes", async () => (await issueTickets(ctx, door, FREE_ORDER_TICKETS)).map(forge));

export const checkinsForged: Scenario = {
  name: "checkins-forged",
  description:
    "POST /v1/checkins with forged codes (a real code, one signature character changed): 400 INVALID_TICKET_CODE before any database read; 32 concurrent scanners, as checkins",
  concurrency: "connections",
  connections: SCANNERS,
  compareWith: "checkins",

  async prepare(ctx, phase) {
    const door = await doorEvent(ctx, "checkins-forged");
    const forged = await forgedCodes(ctx, door);
    let i = 0;
    return requestLoad(ctx, phase, {
      method: "POST",
      path: "/v1/checkins",
      headers: JSON_HEADERS,
      expectStatus: 400,
      perRequest: () => scan(door, forged[i % forged.length] ?? "", i++),
      client: () => nextAddress("scanner"),
    });
  },

  /** The answer's code (one more forged scan), and no ticket of the event checked in. */
  async after(ctx) {
    const door = await doorEvent(ctx, "checkins-forged");
    const [code] = await forgedCodes(ctx, door);
    const token = door.tokens[0];
    const answer = await ctx.api<{ code: string }>(
      "POST",
      "/v1/checkins",
      { code },
      { token, headers: clientHeader(nextAddress("scanner")), expect: 400 },
    );
    const statuses = await ticketStatuses(ctx, door.id);
    const problems = [
      ...(answer.code !== "INVALID_TICKET_CODE" ? [`a forged code answered ${answer.code}`] : []),
      ...(statuses.checked_in ? [`${statuses.checked_in} tickets checked in with forged codes`] : []),
    ];
    return { answerCode: answer.code, ticketsInEvent: statuses, ...(problems.length > 0 ? { problems } : {}) };
  },
};
