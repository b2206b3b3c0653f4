/**
 * Latency distributions for the benchmark and the load suite: HDR histograms of microseconds
 * (hdr-histogram-js computes the percentiles), read out in milliseconds.
 */
import * as hdr from "hdr-histogram-js";

/** Latencies in ms. */
export interface Percentiles {
  count: number;
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** A latency distribution, recorded in microseconds. */
export class Trend {
  readonly #histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): Percentiles {
    const h = this.#histogram;
    const ms = (us: number) => Math.round(us / 100) / 10;
    return {
      count: h.totalCount,
      min: h.totalCount ? ms(h.minNonZeroValue) : 0,
      avg: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      // Read like the percentiles (the top of the highest bucket), so that p99 ≤ max.
      max: ms(h.getValueAtPercentile(100)),
    };
  }
}
