/**
 * The --follow loop (local/follow.ts) on a fast scaled clock, around a pipeline that records the
 * cycle times it is asked for: every closed candle once and in order, a stop that lets the running
 * cycle finish, the end of the data, repeated failures.
 */
import { describe, expect, it } from "vitest";
import { type FollowOptions, follow, formatCycleStatus, scaledClock } from "#local/follow.js";
import type { CycleReport } from "#local/pipeline.js";

const HOUR_MS = 3_600_000;
const START = Date.parse("2024-04-14T10:00:00Z");

function report(at: Date): CycleReport {
  return {
    at: at.toISOString(),
    ingested: 1,
    signals: 1,
    created: 0,
    queued: 0,
    validated: 0,
    risk: 0,
    executed: 0,
    exits: [],
    equityUsd: 10_000,
  };
}

/** a pipeline whose cycles take `cycleMs` of real time and record when they started and ended */
function recordingPipeline(cycleMs: number, fail?: (n: number) => boolean, onStart?: (n: number) => void) {
  const started: string[] = [];
  const finished: string[] = [];
  return {
    started,
    finished,
    async runCycle(at: Date) {
      started.push(at.toISOString());
      onStart?.(started.length);
      await new Promise((r) => setTimeout(r, cycleMs));
      if (fail?.(started.length)) throw new Error(`cycle ${started.length} failed on purpose`);
      finished.push(at.toISOString());
      return report(at);
    },
  };
}

function options(overrides: Partial<FollowOptions> & Pick<FollowOptions, "pipeline">): FollowOptions {
  return {
    clock: scaledClock(START, 60_000), // an hour in 60 ms
    intervalSeconds: 3600,
    delaySeconds: 60,
    signal: new AbortController().signal,
    onCycle: () => {},
    onCycleFailed: () => {},
    ...overrides,
  };
}

const hours = (n: number) =>
  Array.from({ length: n }, (_, i) => new Date(START + i * HOUR_MS + 60_000).toISOString());

describe("follow", () => {
  it("runs one cycle per closed candle, in order, a minute after each close, none skipped when behind", async () => {
    const pipeline = recordingPipeline(100); // slower than the clock: the run falls behind
    const seen: number[] = [];
    const result = await follow(options({ pipeline, maxCycles: 6, onCycle: (_r, n) => seen.push(n) }));
    expect(pipeline.started).toEqual(hours(6));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result).toMatchObject({ cycles: 6, failedCycles: 0, stoppedBy: "cycles" });
    expect(result.firstAt).toBe(hours(1)[0]);
  });

  it("a stop during a cycle lets that cycle finish and starts no other", async () => {
    const stop = new AbortController();
    const pipeline = recordingPipeline(40, undefined, (n) => n === 3 && stop.abort());
    const result = await follow(options({ pipeline, signal: stop.signal }));
    expect(result.stoppedBy).toBe("signal");
    expect(pipeline.started).toEqual(hours(3));
    expect(pipeline.finished).toEqual(pipeline.started);
    expect(result.cycles).toBe(3);
  });

  it("a stop while waiting for the next candle ends the wait at once", async () => {
    const pipeline = recordingPipeline(1);
    const stop = new AbortController();
    const began = Date.now();
    // the wall clock: the next candle is up to an hour away
    const run = follow(options({ pipeline, clock: scaledClock(Date.now(), 1), signal: stop.signal }));
    setTimeout(() => stop.abort(), 200);
    const result = await run;
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(result.stoppedBy).toBe("signal");
    // the last closed candle's cycle ran at once; no other
    expect(result.cycles).toBe(1);
  });

  it("stops after the cycle of the last candle of the data", async () => {
    const pipeline = recordingPipeline(1);
    const result = await follow(options({ pipeline, lastCloseMs: START + 3 * HOUR_MS }));
    expect(pipeline.started).toEqual(hours(4));
    expect(result.stoppedBy).toBe("end-of-data");
  });

  it("reports a failed cycle, goes on, and stops after three failures in a row", async () => {
    const pipeline = recordingPipeline(1, (n) => n === 2 || n >= 4);
    const failed: string[] = [];
    const result = await follow(
      options({
        pipeline,
        onCycleFailed: (at, error) => failed.push(`${at.toISOString()} ${(error as Error).message}`),
      }),
    );
    expect(result).toMatchObject({ cycles: 2, failedCycles: 4, stoppedBy: "failures" });
    expect(pipeline.finished).toEqual([hours(3)[0], hours(3)[2]]);
    expect(failed[0]).toBe(`${hours(2)[1]} cycle 2 failed on purpose`);
  });
});

describe("formatCycleStatus", () => {
  it("is one line with the cycle's time, counts and equity in dollars and cents", () => {
    const line = formatCycleStatus(
      { ...report(new Date("2024-04-14T11:01:00Z")), equityUsd: 10_012.345, exits: ["STOP_LOSS AVAX-USD"] },
      7,
    );
    expect(line).not.toContain("\n");
    expect(line).toMatch(
      /^#7 {2}2024-04-14 11:01 UTC {2}candles \+1 .*equity \$10,012\.35 {2}exits STOP_LOSS AVAX-USD$/,
    );
  });
});
