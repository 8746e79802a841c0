import { describe, expect, it } from "vitest";
import { canonicalJson, runBacktest, tradesFingerprint } from "#backtest/engine.js";
import { cycleOf, handBuy, handSell, market, settings } from "./scenarios.js";

const near = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe("backtest regressions on injected predictions (hand-checked)", () => {
  it("(a) a rising market: a $100 BUY at 160, a $100 SELL at 170 leaves a small remainder, profit after fees", async () => {
    const closeAt = (i: number) => 100 + i * 0.1;
    const run = await runBacktest([market(closeAt, { 600: "BUY", 700: "SELL" })], settings());
    const buy = handBuy(160);
    const sell = handSell(170, buy.base);
    expect(run.trades.map((t) => [t.side, t.time])).toEqual([
      ["BUY", cycleOf(600)],
      ["SELL", cycleOf(700)],
    ]);
    const [b, s] = run.trades;
    expect(b.quoteSize).toBe("100.00");
    expect(near(b.price, buy.price)).toBe(true);
    expect(b.price).toBeCloseTo(160.1, 10);
    expect(near(b.baseSize, buy.base)).toBe(true);
    expect(near(b.fee, buy.fee)).toBe(true);
    expect(near(s.price, sell.price)).toBe(true);
    expect(s.price).toBeCloseTo(169.89, 10);
    expect(near(s.baseSize, sell.base)).toBe(true);
    expect(s.baseSize).toBeLessThan(buy.base); // $100 worth, not the whole position
    expect(s.entryTime).toBe(cycleOf(600));
    // realised P&L on the part sold, the BUY fee spread over the position by average cost
    const costPerUnit = buy.spent / buy.base;
    expect(near(s.pnlUsd!, sell.received - costPerUnit * sell.base, 1e-6)).toBe(true);
    expect(s.pnlUsd!).toBeGreaterThan(4);
    const remainder = buy.base - sell.base;
    const finalEquity = 10_000 - buy.spent + sell.received + remainder * closeAt(899);
    expect(near(run.equity[run.equity.length - 1], finalEquity)).toBe(true);
    expect(run.openPositions).toEqual([
      expect.objectContaining({ symbol: "BTC-USD", quantity: expect.closeTo(remainder, 12) }),
    ]);
    expect(run.killSwitch).toBeUndefined();
  });

  it("(b) a crash: bought at 160, the price halves, the SELL signal realises the loss; equity follows the marks", async () => {
    const closeAt = (i: number) => (i <= 600 ? 160 : i < 650 ? 160 - (i - 600) * 1.6 : 80);
    const run = await runBacktest([market(closeAt, { 600: "BUY", 700: "SELL" })], settings());
    const buy = handBuy(160);
    const sell = handSell(80, buy.base);
    expect(run.trades.map((t) => t.side)).toEqual(["BUY", "SELL"]);
    // at 80, $100 is more than the position is worth: the whole position goes
    expect(near(run.trades[1].baseSize, buy.base)).toBe(true);
    expect(near(run.trades[1].baseSize, sell.base)).toBe(true);
    expect(near(run.trades[1].price, sell.price)).toBe(true);
    expect(near(run.trades[1].pnlUsd!, sell.received - buy.spent, 1e-6)).toBe(true);
    expect(run.trades[1].pnlUsd!).toBeLessThan(-50);
    // marked at the bottom before the SELL (cycle of row 650): cash + position at 80
    const cycle650 = 650 - 500;
    expect(near(run.equity[cycle650], 10_000 - buy.spent + buy.base * 80)).toBe(true);
    expect(near(run.equity[run.equity.length - 1], 10_000 - buy.spent + sell.received)).toBe(true);
    expect(run.openPositions).toEqual([]);
  });

  it("(c) a sideways market: three round trips at a flat 100 each lose spread, slippage and both fees", async () => {
    const signals = { 600: "BUY", 610: "SELL", 620: "BUY", 630: "SELL", 640: "BUY", 650: "SELL" } as const;
    const run = await runBacktest([market(() => 100, signals)], settings());
    const buy = handBuy(100);
    const sell = handSell(100, buy.base);
    expect(buy.price).toBeCloseTo(100.07, 10);
    expect(sell.price).toBeCloseTo(99.94, 10);
    expect(run.trades.map((t) => `${t.side}@${t.time}`)).toEqual(
      Object.entries(signals).map(([row, side]) => `${side}@${cycleOf(Number(row))}`),
    );
    const roundTrip = sell.received - buy.spent;
    for (const t of run.trades.filter((x) => x.side === "SELL"))
      expect(near(t.pnlUsd!, roundTrip, 1e-6)).toBe(true);
    const fees = run.trades.reduce((s, t) => s + t.fee, 0);
    expect(near(fees, 3 * (buy.fee + sell.fee))).toBe(true);
    expect(near(run.equity[run.equity.length - 1], 10_000 + 3 * roundTrip)).toBe(true);
    expect(run.equity[run.equity.length - 1]).toBeLessThan(10_000 - 3 * 1.2);
  });

  it("a SELL signal with nothing held is refused by the risk manager and places no order", async () => {
    const run = await runBacktest([market(() => 100, { 600: "SELL" })], settings());
    expect(run.trades).toEqual([]);
    expect(run.counts.refusedByRisk).toEqual({ NO_POSITION_TO_SELL: 1 });
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
    expect(run.trades.map((t) => `${t.symbol}@${t.time.slice(11, 16)}`)).toEqual([
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
