/**
 * Scheduled runs act only on a plausible time: an event stamped far from now (a 1970 epoch, an AWS
 * sample from years ago, a stale retry, a time in the future) is refused before anything is done.
 */
import type { Context } from "aws-lambda";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_MAX_EVENT_AGE_MINUTES,
  ImplausibleEventTimeError,
  runTime,
  ScheduledEvent,
} from "#runtime/lambda-events.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

const NOW = new Date("2026-03-10T12:00:30.000Z");
const clock = () => NOW;
const scheduled = (time: string) =>
  ScheduledEvent.parse({ "detail-type": "Scheduled Event", source: "aws.scheduler", time });
const minutesFromNow = (m: number) => new Date(NOW.getTime() + m * 60_000).toISOString();

describe("runTime", () => {
  it("is the schedule's own time while it is recent, so a prompt retry reproduces the run", () => {
    expect(runTime(scheduled("2026-03-10T12:00:00Z"), { clock })).toEqual(new Date("2026-03-10T12:00:00Z"));
    const at = minutesFromNow(-(DEFAULT_MAX_EVENT_AGE_MINUTES - 1));
    expect(runTime(scheduled(at), { clock }).toISOString()).toBe(at);
    expect(runTime(scheduled(minutesFromNow(4)), { clock }).toISOString()).toBe(minutesFromNow(4));
  });

  it.each([
    ["the Unix epoch", "1970-01-01T00:00:00Z", /1970-01-01T00:00:00Z is 20523 days behind/],
    ["an AWS sample event", "2015-10-08T16:53:06Z", /is 3806 days behind/],
    ["a stale retry", minutesFromNow(-(DEFAULT_MAX_EVENT_AGE_MINUTES + 1)), /is 16 minutes behind/],
    ["a time ahead of the clock", minutesFromNow(6), /is 6 minutes ahead of this function's clock/],
    ["the far future", "2099-01-01T00:00:00Z", /is 26595 days ahead/],
  ])("refuses %s, saying why and what to do", (_, time, said) => {
    let error: unknown;
    try {
      runTime(scheduled(time), { clock });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ImplausibleEventTimeError);
    const message = (error as Error).message;
    expect(message).toMatch(said);
    expect(message).toContain(`The event's time ${time}`);
    expect(message).toContain("(SCHEDULED_EVENT_MAX_AGE_MINUTES)");
    expect(message).toContain('invoke with {"action":"run"}');
  });

  it("takes the bound from the setting", () => {
    const hourAgo = scheduled(minutesFromNow(-59));
    expect(() => runTime(hourAgo, { clock })).toThrow(ImplausibleEventTimeError);
    expect(runTime(hourAgo, { clock, maxAgeMinutes: 60 }).toISOString()).toBe(minutesFromNow(-59));
    expect(() => runTime(scheduled(minutesFromNow(-2)), { clock, maxAgeMinutes: 1 })).toThrow(
      /2 minutes behind/,
    );
  });

  it("bounds a manual run's explicit now the same way; without one it runs at the clock's time", () => {
    expect(() => runTime({ action: "run", now: "1970-01-01T00:00:00Z" }, { clock })).toThrow(
      /The event's now 1970-01-01T00:00:00Z is 20523 days behind/,
    );
    expect(runTime({ action: "run", now: minutesFromNow(-3) }, { clock }).toISOString()).toBe(
      minutesFromNow(-3),
    );
    expect(runTime({ action: "run" }, { clock })).toBe(NOW);
  });
});

describe("the portfolio handler never writes a snapshot for an implausible time", () => {
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("refuses a 1970 scheduled event and writes nothing; a current one writes its snapshot", async () => {
    await isolatedCloud("portfolio-1970");
    vi.stubEnv("TRADING_MODE", "paper");
    vi.stubEnv("SYMBOLS", "BTC-USD");
    vi.resetModules();
    const { handler } = await import("#functions/portfolio/handler.js");
    const stores = createStores(createDocumentClient());
    const invoke = (event: unknown) => handler(event, {} as Context);

    await expect(invoke(scheduled("1970-01-01T00:00:00Z"))).rejects.toThrow(
      /The event's time 1970-01-01T00:00:00Z is \d+ days behind this function's clock/,
    );
    expect(await stores.portfolio.latestEquitySnapshot()).toBeUndefined();

    const now = new Date();
    now.setUTCSeconds(0, 0);
    await invoke(scheduled(now.toISOString().replace(".000Z", "Z")));
    expect((await stores.portfolio.latestEquitySnapshot())?.at).toBe(now.toISOString());
  });
});
