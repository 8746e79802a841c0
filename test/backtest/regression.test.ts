import { describe, expect, it } from "vitest";
import { canonicalJson, runBacktest, tradesFingerprint } from "#backtest/engine.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { cycleOf, handBuy, handSell, handStop, market, settings } from "./scenarios.js";

const near = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe("backtest regressions on injected predictions (hand-checked)", () => {
  it("(a) a slow rise that reaches no target: the time limit sells the whole position 12 candles later", async () => {
    const closeAt = (i: number) => 100 + i * 0.1;
    const run = await runBacktest([market(closeAt, { 600: "BUY" })], settings());
    const buy = handBuy(160);
    const sell = handSell(closeAt(612), buy.base, Number.POSITIVE_INFINITY);
    expect(run.trades.map((t) => [t.side, t.time, t.exit])).toEqual([
      ["BUY", cycleOf(600), undefined],
      ["SELL", cycleOf(612), "TIME_LIMIT"],
    ]);
    const [b, s] = run.trades;
    expect(b.quoteSize).toBe("100.00");
    expect(near(b.price, buy.price)).toBe(true);
    expect(near(b.baseSize, buy.base)).toBe(true);
    expect(near(b.fee, buy.fee)).toBe(true);
    // a flat history: the stop is the 1% floor of the risk manager, R = 1% of the fill
    expect(b.stopLoss).toBeCloseTo(buy.price * 0.99, 9);
    expect(b.takeProfits).toEqual([expect.closeTo(buy.price * 1.01, 9), expect.closeTo(buy.price * 1.02, 9)]);
    expect(near(s.price, sell.price)).toBe(true);
    expect(near(s.baseSize, buy.base)).toBe(true); // the whole position, not $100 worth
    expect(s.entryTime).toBe(cycleOf(600));
    expect(s.positionId).toBe(b.recommendationId);
    expect(near(s.pnlUsd!, sell.received - buy.spent, 1e-6)).toBe(true);
    expect(near(run.equity[run.equity.length - 1], 10_000 - buy.spent + sell.received)).toBe(true);
    expect(run.openPositions).toEqual([]);
    expect(run.closedPositions).toEqual([
      expect.objectContaining({
        positionId: b.recommendationId,
        exits: ["TIME_LIMIT"],
        closedAt: cycleOf(612),
      }),
    ]);
    expect(run.killSwitch).toBeUndefined();
  });

  it("(b) a crash: bought at 160, the next candle falls through the 1% stop, sold at the stop", async () => {
    const closeAt = (i: number) => (i <= 600 ? 160 : i < 650 ? 160 - (i - 600) * 1.6 : 80);
    const run = await runBacktest([market(closeAt, { 600: "BUY", 700: "SELL" })], settings());
    const buy = handBuy(160);
    const stop = run.trades[0].stopLoss!;
    expect(stop).toBeCloseTo(buy.price * 0.99, 9);
    const sell = handStop(stop, buy.base);
    expect(run.trades.map((t) => [t.side, t.time, t.exit])).toEqual([
      ["BUY", cycleOf(600), undefined],
      ["SELL", cycleOf(601), "STOP_LOSS"],
    ]);
    expect(near(run.trades[1].baseSize, buy.base)).toBe(true);
    expect(near(run.trades[1].price, sell.price)).toBe(true);
    expect(run.trades[1].triggerPrice).toBe(stop);
    expect(near(run.trades[1].pnlUsd!, sell.received - buy.spent, 1e-6)).toBe(true);
    // a loss of about 1% plus costs, not the halving that followed
    expect(run.trades[1].pnlUsd!).toBeGreaterThan(-3);
    expect(near(run.equity[run.equity.length - 1], 10_000 - buy.spent + sell.received)).toBe(true);
    expect(run.openPositions).toEqual([]);
  });

  it("(c) a sideways market: three round trips (SELL signals exit) at a flat 100 each lose spread, slippage and both fees", async () => {
    const signals = { 600: "BUY", 610: "SELL", 620: "BUY", 630: "SELL", 640: "BUY", 650: "SELL" } as const;
    const run = await runBacktest([market(() => 100, signals)], settings());
    const buy = handBuy(100);
    const sell = handSell(100, buy.base, Number.POSITIVE_INFINITY);
    expect(buy.price).toBeCloseTo(100.07, 10);
    expect(sell.price).toBeCloseTo(99.94, 10);
    expect(run.trades.map((t) => `${t.side}@${t.time}`)).toEqual(
      Object.entries(signals).map(([row, side]) => `${side}@${cycleOf(Number(row))}`),
    );
    const roundTrip = sell.received - buy.spent;
    for (const t of run.trades.filter((x) => x.side === "SELL")) {
      expect(t.exit).toBe("SIGNAL");
      expect(near(t.pnlUsd!, roundTrip, 1e-6)).toBe(true);
    }
    const fees = run.trades.reduce((s, t) => s + t.fee, 0);
    expect(near(fees, 3 * (buy.fee + sell.fee))).toBe(true);
    expect(near(run.equity[run.equity.length - 1], 10_000 + 3 * roundTrip)).toBe(true);
    expect(run.equity[run.equity.length - 1]).toBeLessThan(10_000 - 3 * 1.2);
  });

  it("a new UTC day while flat starts the daily loss afresh: two losing days, each under the limit, trip nothing", async () => {
    // row 600 is 2024-01-26 00:00: a loss that day, flat over midnight (row 624), a loss the next day
    const closeAt = (i: number) => (i === 601 || i === 641 ? 150 : 160);
    const symbol = market(closeAt, { 600: "BUY", 640: "BUY" });
    const free = await runBacktest([symbol], settings());
    const losses = free.trades.filter((t) => t.side === "SELL").map((t) => -t.pnlUsd!);
    expect(free.trades.map((t) => [t.side, t.time.slice(0, 13), t.exit])).toEqual([
      ["BUY", cycleOf(600).slice(0, 13), undefined],
      ["SELL", cycleOf(601).slice(0, 13), "STOP_LOSS"],
      ["BUY", cycleOf(640).slice(0, 13), undefined],
      ["SELL", cycleOf(641).slice(0, 13), "STOP_LOSS"],
    ]);
    expect(cycleOf(601).slice(0, 10)).not.toBe(cycleOf(641).slice(0, 10));
    const [first, second] = losses;
    // under the limit against each day's start, over it against the first day's
    const maxDailyLoss = (second + first / 2) / 10_000;
    expect(second / (10_000 - first)).toBeLessThan(maxDailyLoss);
    expect((first + second) / 10_000).toBeGreaterThan(maxDailyLoss);
    const run = await runBacktest([symbol], settings({ limits: { ...DEFAULT_RISK_LIMITS, maxDailyLoss } }));
    expect(run.killSwitchTrips).toEqual([]);
    expect(tradesFingerprint(run.trades)).toBe(tradesFingerprint(free.trades));
  });

  it("a SELL signal with nothing held does nothing: it is an exit rule, never a recommendation", async () => {
    const run = await runBacktest([market(() => 100, { 600: "SELL" })], settings());
    expect(run.trades).toEqual([]);
    expect(run.counts.signals).toBe(1);
    expect(run.counts.recommendations).toBe(0);
    expect(run.counts.riskChecks).toBe(0);
  });

  it("the bridge keeps a recommendation for 3 cycles and queues the 3 most confident per cycle", async () => {
    // five symbols signalling in the same cycle: three go at once, the other two in the next cycle
    const ids = ["BTC-USD", "ETH-USD", "SOL-USD", "LTC-USD", "BCH-USD"];
    const symbols = ids.map((productId, k) => {
      const m = market(() => 100, { 600: "BUY" });
      m.probabilities.set([0.05, 0.25 - k * 0.01, 0.7 + k * 0.01], 600 * 3);
      return { ...m, productId };
    });
    const run = await runBacktest(symbols, settings());
    const buys = run.trades.filter((t) => t.side === "BUY");
    expect(buys.map((t) => `${t.symbol}@${t.time.slice(11, 16)}`)).toEqual([
      `BCH-USD@${cycleOf(600).slice(11, 16)}`,
      `LTC-USD@${cycleOf(600).slice(11, 16)}`,
      `SOL-USD@${cycleOf(600).slice(11, 16)}`,
      `ETH-USD@${cycleOf(601).slice(11, 16)}`,
      `BTC-USD@${cycleOf(601).slice(11, 16)}`,
    ]);
    expect(run.counts.expired).toBe(0);
  });
});

describe("trade list fingerprint", () => {
  const signals = { 600: "BUY", 610: "SELL", 620: "BUY", 630: "SELL" } as const;

  it("is the sha256 of the canonical JSON: key order does not matter, any field does", async () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: "x" }] })).toBe('{"a":[1,{"c":"x","d":2}],"b":1}');
    const run = await runBacktest([market(() => 100, signals)], settings());
    const fingerprint = tradesFingerprint(run.trades);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const reordered = run.trades.map((t) =>
      Object.fromEntries(Object.entries(t).reverse()),
    ) as typeof run.trades;
    expect(tradesFingerprint(reordered)).toBe(fingerprint);
    const changed = run.trades.map((t, i) => (i === 1 ? { ...t, fee: t.fee + 1e-12 } : t));
    expect(tradesFingerprint(changed)).not.toBe(fingerprint);
    const again = await runBacktest([market(() => 100, signals)], settings());
    expect(tradesFingerprint(again.trades)).toBe(fingerprint);
  });

  it("changes with a fee setting", async () => {
    const base = await runBacktest([market(() => 100, signals)], settings());
    const cheaper = await runBacktest(
      [market(() => 100, signals)],
      settings({ fill: { spreadBps: 2, slippageBps: 5, impactCoefficient: 0, takerFeeBps: 40 } }),
    );
    expect(tradesFingerprint(cheaper.trades)).not.toBe(tradesFingerprint(base.trades));
  });
});
