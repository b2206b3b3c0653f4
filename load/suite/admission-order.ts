/**
 * Whether a drop queue admitted its buyers in the order it promised (../shared/API.md, "Drops"): who
 * joined before `opensAt` in a random order (join order and admission order independent: Spearman's
 * ρ near 0), who joined later in arrival order (no inversion). A buyer's admission time is read from
 * its pass's `passExpiresAt`, the admission time plus `passSeconds`, the same for every pass.
 */
import { inversions, spearman, spearmanBound } from "./order-stats.ts";
import type { Admitted } from "./queue-steps.ts";
import { atLeast, exactly, type Threshold } from "./thresholds.ts";

export interface QueuedBuyer {
  group: "early" | "later";
  /** Its place among its group's joins, in the order they were answered. */
  joinSeq: number;
  /** When its join was answered (epoch ms). */
  joinedAt: number;
  admitted?: Admitted;
}

/** The bound on |ρ| between the early joiners' join and admission orders (widened for a small n). */
const RHO_BOUND = 0.1;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The admitted buyers' admission order against their join order: ρ over the early joiners,
 * inversions among the late ones, late ones admitted before an early one; and when admitting began
 * (every pass lives `passSeconds`), how long it took, and at what rate the late joiners (consecutive slots: nobody else joined after the open) were
 * admitted.
 */
export function admissionOrder(buyers: readonly QueuedBuyer[], passSeconds: number) {
  const admitted = (group: QueuedBuyer["group"]) =>
    buyers.filter((b) => b.group === group && b.admitted).sort((a, b) => a.joinSeq - b.joinSeq);
  const at = (b: QueuedBuyer) => (b.admitted as Admitted).passExpiresAt;
  const early = admitted("early");
  const later = admitted("later");
  const all = [...early, ...later];
  const times = all.map(at).sort((a, b) => a - b);
  const laterTimes = later.map(at).sort((a, b) => a - b);
  const laterSpan = (laterTimes.at(-1) ?? 0) - (laterTimes[0] ?? 0);
  const lastEarly = Math.max(...early.map(at));
  const rho = spearman(
    early.map((b) => b.joinSeq),
    early.map(at),
  );
  return {
    early: {
      n: early.length,
      rho: rho === null ? null : round(rho, 4),
      bound: round(spearmanBound(early.length, RHO_BOUND), 3),
    },
    later: {
      n: later.length,
      inversions: inversions(later.map(at)),
      beforeAnEarly: later.filter((b) => at(b) < lastEarly).length,
    },
    /** Epoch ms of the first admission. */
    firstAdmittedAt: times.length > 0 ? (times[0] as number) - passSeconds * 1000 : null,
    admissionSeconds: times.length > 1 ? round(((times.at(-1) as number) - (times[0] as number)) / 1000, 2) : null,
    lateJoinersAdmittedPerMinute: laterSpan > 0 ? Math.round(((laterTimes.length - 1) / laterSpan) * 60_000) : null,
    pollsPerAdmittedBuyer: all.length
      ? round(all.reduce((n, b) => n + (b.admitted as Admitted).polls, 0) / all.length, 1)
      : null,
  };
}

/** The order's thresholds: |ρ| below its bound over the early joiners; 0 inversions among the late ones. */
export function orderThresholds(order: ReturnType<typeof admissionOrder>): Threshold[] {
  const { early, later } = order;
  return [
    {
      name: `|Spearman ρ| of the early joiners' join and admission orders < ${early.bound} (n ${early.n})`,
      ok: early.rho !== null && Math.abs(early.rho) < early.bound,
      actual: early.rho === null ? "too few admitted" : String(round(early.rho, 3)),
    },
    exactly(`inversions of the late joiners' admission order (n ${later.n})`, later.inversions, 0),
    atLeast("late joiners admitted", later.n, 1),
  ];
}
