/** The replay that decides a ticket's state from scans that arrive out of order. */
import { describe, expect, it } from "vitest";
import type { CheckinResult } from "../src/db/schema";
import { replay, type TimelineScan } from "../src/domain/door/timeline";

let n = 0;
function s(
  direction: "in" | "out",
  scannedAt: number,
  fields: { offline?: boolean; result?: CheckinResult | null } = {},
): TimelineScan {
  n++;
  return {
    id: `chk_${n}`,
    direction,
    scannedAt,
    recordedAt: 0,
    position: 0,
    offline: fields.offline ?? true,
    result: fields.result ?? null,
    scannerId: "scn_x",
    gate: `g${scannedAt}`,
  };
}

const effects = (scans: TimelineScan[]) => {
  const { outcomes } = replay(scans);
  return scans.map((x) => {
    const o = outcomes.get(x.id);
    return o ? `${o.effect}${o.flagged ? "!" : ""}` : "skipped";
  });
};

describe("replay", () => {
  it("admits, refuses a second entry (flagged), lets out and back in, in scannedAt order", () => {
    expect(effects([s("in", 1), s("in", 2), s("out", 3), s("out", 4), s("in", 5)])).toEqual([
      "admitted",
      "none!",
      "exited",
      "none",
      "admitted",
    ]);
    // The same scans, arriving shuffled, replay the same.
    const scans = [s("out", 30), s("in", 50), s("in", 10), s("in", 20)];
    expect(effects(scans)).toEqual(["exited", "admitted", "admitted", "none!"]);
    expect(replay(scans)).toMatchObject({ inside: { at: 50, gate: "g50" }, firstAdmittedAt: 10 });
  });

  it("online refusals moved nobody; an online admission found to be second is flagged", () => {
    const scans = [
      s("in", 10, { offline: false, result: "admitted" }),
      s("in", 20, { offline: false, result: "duplicate" }),
      s("in", 5),
    ];
    expect(effects(scans)).toEqual(["none!", "skipped", "admitted"]);
    expect(replay(scans)).toMatchObject({ inside: { at: 5 }, firstAdmittedAt: 5 });
  });

  it("nothing scanned: outside, never admitted", () => {
    expect(replay([])).toEqual({ inside: null, firstAdmittedAt: null, outcomes: new Map() });
  });
});
