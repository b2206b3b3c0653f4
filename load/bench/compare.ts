/**
 * The ratios printed under the table and stored with the figures, each within one run: a scenario
 * over the one it names (`compareWith`: forged over real check-ins, flatness at n holds over 0,
 * reservations' p99 polled over unpolled), on each server; and boxoffice's reservations over each
 * Postgres peer's (issue 12, aim 1: boxoffice ahead of the guarded UPDATE).
 */
import { round } from "../serve/processes.ts";
import { PEERS } from "./peers.ts";
import type { Scenario } from "./scenario.ts";
import type { Result } from "./table.ts";

export interface Comparison {
  server: string;
  scenario: string;
  over: string;
  on: "req/s" | "p99";
  ratio: number;
  /** The aim for this ratio and whether it is met (the Worker's servers only). */
  aim?: string;
  met?: boolean;
}

const aimText = (aim: NonNullable<Scenario["compareAim"]>) =>
  [aim.atLeast === undefined ? "" : `≥ ${aim.atLeast}`, aim.below === undefined ? "" : `< ${aim.below}`]
    .filter(Boolean)
    .join(" and ");

export function comparisons(
  results: Result[],
  scenarios: Record<string, Scenario>,
  workerServers: readonly string[],
): Comparison[] {
  return results.flatMap((r) => {
    const scenario = scenarios[r.scenario];
    const over = scenario?.compareWith;
    const other = results.find((b) => b.server === r.server && b.scenario === over);
    if (!scenario || !over || !other) return [];
    const on = scenario.compareOn ?? "req/s";
    const value = (x: Result) => (on === "p99" ? x.latencyMs.p99 : x.requestsPerSec);
    if (!value(other)) return [];
    const ratio = round(value(r) / value(other), 2);
    const aim = workerServers.includes(r.server) ? scenario.compareAim : undefined;
    const met =
      aim && (aim.atLeast === undefined || ratio >= aim.atLeast) && (aim.below === undefined || ratio < aim.below);
    return [
      {
        server: r.server,
        scenario: r.scenario,
        over,
        on,
        ratio,
        ...(aim ? { aim: aimText(aim), met: Boolean(met) } : {}),
      },
    ];
  });
}

export const formatComparison = (c: Comparison) =>
  `on ${c.server}: ${c.scenario} ÷ ${c.over} = ${c.ratio.toFixed(2)} (${c.on}` +
  (c.aim ? `; aim ${c.aim} ${c.met ? "✓" : "✗"})` : ")");

/** The Worker's server whose reservations the peers are compared with. */
export const PEER_REFERENCE = "miniflare-direct";

export interface PeerRatio {
  /** `boxoffice ÷ seeds` */
  label: string;
  peer: string;
  boxofficeReqPerSec: number;
  peerReqPerSec: number;
  ratio: number;
}

/** boxoffice's reservations (on PEER_REFERENCE) over each peer's, when both were measured. */
export function peerRatios(results: Result[]): PeerRatio[] {
  const boxoffice = results.find((r) => r.server === PEER_REFERENCE && r.scenario === "reservations");
  if (!boxoffice) return [];
  return PEERS.flatMap((p) => {
    const peer = results.find((r) => r.server === p.server && r.scenario === "reservations");
    if (!peer?.requestsPerSec) return [];
    return [
      {
        label: `boxoffice ÷ ${p.short}`,
        peer: p.server,
        boxofficeReqPerSec: boxoffice.requestsPerSec,
        peerReqPerSec: peer.requestsPerSec,
        ratio: round(boxoffice.requestsPerSec / peer.requestsPerSec, 2),
      },
    ];
  });
}

export const formatPeerRatio = (p: PeerRatio) =>
  `${p.label} = ${p.ratio.toFixed(2)} (reservations req/s: ${PEER_REFERENCE} ${p.boxofficeReqPerSec.toFixed(0)} ` +
  `over ${p.peer} ${p.peerReqPerSec.toFixed(0)}; > 1: boxoffice ahead)`;
