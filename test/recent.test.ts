import { describe, expect, it } from "vitest";
import { Recent } from "../src/lib/recent";

describe("a value shared for a short while (Recent)", () => {
  it("is made once for everyone asking at once or within its age, then made again", async () => {
    const recent = new Recent<number>();
    let made = 0;
    const make = async () => ++made;
    const first = await Promise.all([recent.get("e", 1000, 0, make), recent.get("e", 1000, 10, make)]);
    expect(first).toEqual([1, 1]);
    expect(await recent.get("e", 1000, 999, make)).toBe(1);
    expect(await recent.get("e", 1000, 1000, make)).toBe(2);
    expect(await recent.get("other", 1000, 1000, make)).toBe(3);
    expect(made).toBe(3);
  });

  it("keeps no failure: the next asker makes it again", async () => {
    const recent = new Recent<number>();
    await expect(recent.get("e", 1000, 0, async () => Promise.reject(new Error("object down")))).rejects.toThrow(
      "object down",
    );
    expect(await recent.get("e", 1000, 1, async () => 7)).toBe(7);
  });

  it("with an age of 0 makes it every time, and forgets the oldest key past its bound", async () => {
    let made = 0;
    const zero = new Recent<number>();
    await zero.get("e", 0, 0, async () => ++made);
    await zero.get("e", 0, 0, async () => ++made);
    expect(made).toBe(2);
    const small = new Recent<string>(2);
    await small.get("a", 1000, 0, async () => "a1");
    await small.get("b", 1000, 0, async () => "b1");
    await small.get("c", 1000, 0, async () => "c1");
    expect(await small.get("a", 1000, 1, async () => "a2")).toBe("a2");
    expect(await small.get("c", 1000, 1, async () => "c2")).toBe("c1");
  });
});
