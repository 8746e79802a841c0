import { describe, expect, it } from "vitest";
import { replayClock } from "#local/replay-clock.js";

describe("the replay clock", () => {
  it("reads the replay time it was last moved to, never the wall clock", () => {
    const clock = replayClock(new Date("2024-04-14T00:00:00Z"));
    expect(clock.now().toISOString()).toBe("2024-04-14T00:00:00.000Z");
    clock.advanceTo(new Date("2024-04-14T01:01:00Z"));
    expect(clock.now().toISOString()).toBe("2024-04-14T01:01:00.000Z");
    // a caller changing the Date it got back does not move the clock
    clock.now().setUTCFullYear(2030);
    expect(clock.now().toISOString()).toBe("2024-04-14T01:01:00.000Z");
  });
});
