import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  backtestWindow,
  type CandleTimes,
  checkOrder,
  inSampleBanner,
  inSampleWarning,
  seenMarketOf,
  WindowError,
} from "#backtest/windows.js";
import { type ModelCard, ModelCardSchema } from "#model/card.js";
import { REPO_ROOT } from "#test/support/paths.js";

const HOUR = 3600;
const sec = (iso: string) => Date.parse(iso) / 1000;
const card: ModelCard = ModelCardSchema.parse(
  JSON.parse(readFileSync(resolve(REPO_ROOT, "models/signal-model.card.json"), "utf8")),
);
const seen = seenMarketOf(card);

/** Hourly candles opening from `from` (inclusive) to `to` (exclusive). */
function candles(from: string, to: string, productId = "BTC-USD"): CandleTimes {
  const start = new Float64Array((sec(to) - sec(from)) / HOUR).map((_, i) => sec(from) + i * HOUR);
  return { productId, start, length: start.length };
}

/** What run.ts passes as replayable: first close with a full window .. one past the last close. */
function replayable(s: CandleTimes, warmup = 500): { fromSec: number; toSec: number } {
  return { fromSec: s.start[warmup - 1] + HOUR, toSec: s.start[s.length - 1] + HOUR + 1 };
}

describe("what the model has seen, from its card", () => {
  it("is the final fit's span plus the purged label horizon: the shipped model has not seen 2024-01-01 on", () => {
    // finalFit 2017-08-25T11:00 .. 2023-12-31T11:00, then 13 purged candles (12-candle label + 1)
    expect(card.split.purgeCandles).toBeGreaterThanOrEqual(card.label.horizonCandles);
    expect(seen.seen).toEqual({ fromSec: sec("2017-08-25T11:00:00Z"), toSec: sec("2024-01-01T00:00:00Z") });
    expect(seen.seen.toSec).toBe(sec(card.split.validation.from));
    expect(seen.periods.map((p) => p.name)).toEqual([
      "training",
      "selection",
      "label horizon after the final fit (13 candles purged)",
    ]);
  });

  it("purges at least the label horizon even when a card's split purges less", () => {
    const short = { ...card, split: { ...card.split, purgeCandles: 1 } };
    expect(seenMarketOf(short).seen.toSec).toBe(
      sec(card.split.finalFit.to) + card.label.horizonCandles * card.label.granularitySeconds,
    );
  });
});

describe("the IN-SAMPLE warning", () => {
  it("says nothing for a window after what the model has seen", () => {
    expect(inSampleWarning({ fromSec: sec("2024-01-01"), toSec: sec("2024-07-01") }, seen)).toBeUndefined();
  });

  it("names the overlap, its share of the window and the periods it touches", () => {
    const window = { fromSec: sec("2023-10-01"), toSec: sec("2024-03-01") };
    const w = inSampleWarning(window, seen)!;
    expect(w.from).toBe("2023-10-01T00:00:00.000Z");
    expect(w.to).toBe("2024-01-01T00:00:00.000Z");
    expect(w.share).toBeCloseTo(92 / 152, 12);
    expect(w.periods).toEqual([
      { name: "selection", from: "2023-10-01T00:00:00.000Z", to: "2023-12-31T11:00:00.000Z" },
      {
        name: "label horizon after the final fit (13 candles purged)",
        from: "2023-12-31T11:00:00.000Z",
        to: "2024-01-01T00:00:00.000Z",
      },
    ]);
    expect(w.firstUnseen).toBe("2024-01-01T00:00:00.000Z");
    expect(w.message).toMatch(
      /^IN-SAMPLE: 2023-10-01T00:00:00\.000Z \.\. 2024-01-01T00:00:00\.000Z, 60\.5% of the window/,
    );
    expect(w.message).toContain("--from 2024-01-01T00:00:00.000Z");
    const banner = inSampleBanner(w);
    expect(banner.split("\n")[0]).toBe("!".repeat(100));
    expect(banner).toContain("!! IN-SAMPLE: 2023-10-01");
    expect(banner.split("\n").every((line) => line.length === 100)).toBe(true);
  });

  it("covers the whole window when it lies inside the training period", () => {
    const w = inSampleWarning({ fromSec: sec("2020-01-01"), toSec: sec("2021-01-01") }, seen)!;
    expect(w.share).toBe(1);
    expect(w.periods.map((p) => p.name)).toEqual(["training"]);
  });
});

describe("the backtest's window", () => {
  const wide = candles("2023-06-01", "2024-03-01");

  it("starts by default at the first candle the model has not seen", () => {
    const w = backtestWindow({}, replayable(wide), [wide], HOUR, seen);
    expect(w).toEqual({
      fromSec: sec("2024-01-01"),
      toSec: sec("2024-03-01") + 1,
      fromChosen: "after the model's fitted data",
    });
  });

  it("starts at the first scorable candle when that comes later, or when there is no card", () => {
    const late = candles("2024-02-01", "2024-04-01");
    expect(backtestWindow({}, replayable(late), [late], HOUR, seen)).toMatchObject({
      fromSec: replayable(late).fromSec,
      fromChosen: "first scorable candle",
    });
    expect(backtestWindow({}, replayable(wide), [wide], HOUR, undefined)).toMatchObject({
      fromSec: replayable(wide).fromSec,
      fromChosen: "first scorable candle",
    });
    expect(backtestWindow({}, replayable(wide), [wide], HOUR, undefined).inSample).toBeUndefined();
  });

  it("keeps a given --from, clipped to the data, and marks the seen part IN-SAMPLE", () => {
    const w = backtestWindow({ fromSec: sec("2017-01-01") }, replayable(wide), [wide], HOUR, seen);
    expect(w.fromSec).toBe(replayable(wide).fromSec);
    expect(w.fromChosen).toBe("given");
    expect(w.inSample?.from).toBe(new Date(replayable(wide).fromSec * 1000).toISOString());
    expect(w.inSample?.to).toBe("2024-01-01T00:00:00.000Z");
    expect(w.inSample?.share).toBeGreaterThan(0.5);
  });

  it("refuses a reversed or empty window, saying what was given", () => {
    expect(() => checkOrder(sec("2024-07-01"), sec("2024-01-01"))).toThrow(WindowError);
    expect(() => checkOrder(sec("2024-07-01"), sec("2024-01-01"))).toThrow(
      "--from 2024-07-01T00:00:00.000Z is not before --to 2024-01-01T00:00:00.000Z: the window [from, to) is reversed.",
    );
    expect(() => checkOrder(sec("2024-01-01"), sec("2024-01-01"))).toThrow(/is empty/);
    expect(() =>
      backtestWindow(
        { fromSec: sec("2024-02-01"), toSec: sec("2024-01-01") },
        replayable(wide),
        [wide],
        HOUR,
        seen,
      ),
    ).toThrow(/is reversed/);
  });

  it("refuses a window in which no candle of any symbol closes, naming the data's span", () => {
    const run = () =>
      backtestWindow(
        { fromSec: sec("2024-05-01"), toSec: sec("2024-06-01") },
        replayable(wide),
        [wide],
        HOUR,
        seen,
      );
    expect(run).toThrow(WindowError);
    expect(run).toThrow(
      /no candle of any symbol closes in the window \[2024-05-01T00:00:00\.000Z, 2024-06-01T00:00:00\.000Z\): the candles close from .* to 2024-03-01T00:00:00\.000Z/,
    );
    // a hole in the data: two symbols, neither with a candle in January
    const early = candles("2023-06-01", "2024-01-01", "BTC-USD");
    const late = candles("2024-02-01", "2024-03-01", "ETH-USD");
    const span = { fromSec: replayable(early).fromSec, toSec: replayable(late).toSec };
    expect(() =>
      backtestWindow(
        { fromSec: sec("2024-01-02"), toSec: sec("2024-01-31") },
        span,
        [early, late],
        HOUR,
        seen,
      ),
    ).toThrow(/no candle of any symbol closes/);
  });

  it("refuses a default window when every candle was seen in training, and says how to replay them anyway", () => {
    const old = candles("2021-01-01", "2021-06-01");
    expect(() => backtestWindow({}, replayable(old), [old], HOUR, seen)).toThrow(
      /nothing to replay out of sample: .* all before 2024-01-01T00:00:00\.000Z, the first candle the model has not seen\. Give --from/,
    );
    const inSample = backtestWindow({ fromSec: sec("2021-01-01") }, replayable(old), [old], HOUR, seen);
    expect(inSample.inSample?.share).toBe(1);
  });
});
