/**
 * Reservation attempts that reached a tier's object, per second of the last ten minutes (kept in
 * memory: a measurement, not state). It shows what the admission in front of the object let through:
 * with a drop queue, about `admitPerMinute / 60` admitted buyers a second, each making a few attempts
 * (a refused attempt gives its pass use back, so a buyer may try more than `passReservations` times).
 */
const KEPT_SECONDS = 600;

export interface AttemptRates {
  peakPerSecond: number;
  perSecond: { at: number; attempts: number }[];
}

export class AttemptRate {
  private readonly seconds = new Map<number, number>();

  count(now: number): void {
    const second = Math.floor(now / 1000);
    this.seconds.set(second, (this.seconds.get(second) ?? 0) + 1);
    if (this.seconds.size > KEPT_SECONDS) {
      for (const s of this.seconds.keys()) {
        if (s > second - KEPT_SECONDS) break;
        this.seconds.delete(s);
      }
    }
  }

  rates(): AttemptRates {
    const perSecond = [...this.seconds].map(([s, attempts]) => ({ at: s * 1000, attempts }));
    return { peakPerSecond: Math.max(0, ...perSecond.map((p) => p.attempts)), perSecond };
  }
}
