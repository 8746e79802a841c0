import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { silentLog } from "#runtime/log.js";
import { candleMarks } from "#runtime/venue.js";
import { clientOrderIdFor, executeTrade } from "#steps/execute-trade.js";
import { runKillSwitchCommand } from "#steps/kill-switch-command.js";
import { applyFill, MarkUnavailableError, reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { candle } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import {
  buyRequest,
  coinbaseExchangeOn,
  referenceClosesFromVenue,
  riskApprovedRecommendation,
} from "#test/support/steps.js";

const testKey = es256TestKey();
const T0 = new Date("2024-06-30T12:00:00.000Z");
const SETTINGS = {
  maxDailyLoss: 0.05,
  maxDrawdown: 0.15,
  dailyLossResumesNextDay: true,
  quoteCurrency: "USD",
};

describe("portfolio reconciliation against the exchange (the fake Coinbase)", () => {
  let fake: FakeCoinbase;
  let stores: Stores;
  let exchange: CoinbaseExchange;
  let marks: Record<string, number>;
  const deps = () => ({
    ...stores,
    exchange,
    marks: { markPrice: async (symbol: string) => marks[symbol] ?? 1 },
    log: silentLog,
  });

  beforeEach(async () => {
    await isolatedCloud("portfolio");
    stores = createStores(createDocumentClient());
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "10000", BTC: "0", ETH: "0", SOL: "0", DOGE: "0" },
    });
    exchange = coinbaseExchangeOn(fake, testKey);
    marks = { "BTC-USD": 64_000, "ETH-USD": 3_200 };
  });
  afterEach(async () => {
    await fake.close();
  });

  async function executedBuy(id: string, symbol: string, amountUsd: number) {
    await riskApprovedRecommendation(stores, id, symbol, amountUsd, T0);
    await stores.portfolio.recordApproval(
      { recommendationId: id, symbol, side: "BUY", amountUsd, createdAt: T0.toISOString() },
      "2024-06-30",
    );
    await referenceClosesFromVenue(stores, exchange, [symbol], T0);
    return executeTrade({ ...stores, exchange, log: silentLog }, buyRequest(id, symbol, T0), T0);
  }

  it("books partial fills as they come, releases the reservation when the order is done, and matches the exchange", async () => {
    fake.faults.partialFill("0.4", 1);
    const placed = await executedBuy("p-1", "ETH-USD", 500);
    expect(placed.outcome).toBe("executed");
    const cid = clientOrderIdFor("p-1");
    expect((await stores.orders.getOrder(cid))?.status).toBe("OPEN");

    const first = await reconcilePortfolio(deps(), SETTINGS, T0);
    expect(first.newFills).toHaveLength(1);
    expect((await stores.orders.getOrder(cid))?.status).toBe("OPEN");
    expect(await stores.portfolio.reservations()).toHaveLength(1); // still working

    fake.state.completePartialFills();
    const second = await reconcilePortfolio(deps(), SETTINGS, new Date(T0.getTime() + 60_000));
    expect(second.newFills).toHaveLength(1);
    const order = await stores.orders.getOrder(cid);
    expect(order).toMatchObject({ status: "FILLED", reconciled: true });
    expect(await stores.orders.openOrders()).toEqual([]);
    expect(await stores.portfolio.reservations()).toEqual([]);

    const eth = fake.state.balance("ETH");
    const usd = fake.state.balance("USD");
    const [position] = await stores.portfolio.getPositions();
    expect(position.quantity).toBe(eth.available);
    expect(second.unknownExposure).toEqual([]);
    // cost basis = what was paid including fees
    expect(Number(position.costBasisUsd)).toBeCloseTo(10_000 - Number(usd.available), 6);
    expect(second.snapshot.cashUsd).toBeCloseTo(Number(usd.available), 6);
    expect(second.snapshot.equityUsd).toBeCloseTo(Number(usd.available) + Number(eth.available) * 3_200, 6);
    // a third run finds nothing new: fills are booked once
    expect((await reconcilePortfolio(deps(), SETTINGS, new Date(T0.getTime() + 120_000))).newFills).toEqual(
      [],
    );
  });

  it("flags exposure the store does not know about and adopts the exchange's quantity", async () => {
    // someone bought BTC on the account by hand
    await fake.close();
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "9000", BTC: "0.015", ETH: "0", SOL: "0", DOGE: "0" },
    });
    exchange = coinbaseExchangeOn(fake, testKey);
    const report = await reconcilePortfolio(deps(), SETTINGS, T0);
    expect(report.unknownExposure).toEqual([
      { symbol: "BTC-USD", storeQuantity: "0", exchangeQuantity: "0.015" },
    ]);
    expect((await stores.portfolio.getPositions()).map((p) => [p.symbol, p.quantity])).toEqual([
      ["BTC-USD", "0.015"],
    ]);
    expect(report.snapshot.equityUsd).toBeCloseTo(9000 + 0.015 * 64_000, 6);
  });

  it("trips the kill switch by itself at the drawdown limit, with the reason in the audit trail", async () => {
    await executedBuy("p-2", "BTC-USD", 5_000);
    await reconcilePortfolio(deps(), SETTINGS, T0);
    const peak = (await stores.portfolio.latestEquitySnapshot())!.equityUsd;
    // next day (no daily-loss trip), BTC falls 40%: equity falls by about 20% of the peak
    marks["BTC-USD"] = 64_000 * 0.6;
    const report = await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-01T00:30:00.000Z"));
    expect(report.snapshot.peakEquityUsd).toBeCloseTo(peak, 6);
    expect(report.snapshot.drawdownPct).toBeGreaterThan(15);
    expect(report.killSwitchTripped).toMatch(/drawdown .* reached the 15.0% limit/);
    const kill = await stores.killSwitch.get();
    expect(kill).toMatchObject({ active: true, changedBy: "portfolio (automatic)" });
    expect((await stores.killSwitch.auditTrail(5))[0].reason).toMatch(/drawdown/);
  });

  it("trips the kill switch at a 5% daily loss", async () => {
    await executedBuy("p-3", "BTC-USD", 2_000);
    await reconcilePortfolio(deps(), SETTINGS, T0);
    marks["BTC-USD"] = 64_000 * 0.7; // −30% on 20% of equity: −6% on the day
    const report = await reconcilePortfolio(deps(), SETTINGS, new Date(T0.getTime() + 3_600_000));
    expect(report.killSwitchTripped).toMatch(/daily loss .* reached the 5.0% limit/);
  });

  it("a daily-loss trip lifts itself at the next UTC midnight; a drawdown halt does not", async () => {
    await executedBuy("p-4", "BTC-USD", 2_000);
    await reconcilePortfolio(deps(), SETTINGS, T0);
    marks["BTC-USD"] = 64_000 * 0.7;
    const tripAt = new Date(T0.getTime() + 3_600_000);
    await reconcilePortfolio(deps(), SETTINGS, tripAt);
    const midnight = new Date((Math.floor(tripAt.getTime() / 86_400_000) + 1) * 86_400_000);
    expect(await stores.killSwitch.get()).toMatchObject({ active: true, resumeAt: midnight.toISOString() });
    // still the same day: paused
    const before = await reconcilePortfolio(deps(), SETTINGS, new Date(midnight.getTime() - 60_000));
    expect(before.killSwitchResumed).toBeUndefined();
    expect((await stores.killSwitch.get()).active).toBe(true);
    // the new day: equity is the new day start, the daily loss is 0, the pause lifts
    const after = await reconcilePortfolio(deps(), SETTINGS, new Date(midnight.getTime() + 60_000));
    expect(after.killSwitchResumed).toBe(midnight.toISOString());
    expect(await stores.killSwitch.get()).toMatchObject({
      active: false,
      changedBy: "portfolio (automatic)",
    });

    // with KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY=false the same trip waits for an operator
    marks["BTC-USD"] = 64_000 * 0.4;
    const noResume = { ...SETTINGS, dailyLossResumesNextDay: false };
    const trip = await reconcilePortfolio(deps(), noResume, new Date(midnight.getTime() + 120_000));
    expect(trip.killSwitchTripped).toMatch(/daily loss/);
    expect((await stores.killSwitch.get()).resumeAt).toBeUndefined();
    await reconcilePortfolio(deps(), noResume, new Date(midnight.getTime() + 2 * 86_400_000));
    expect((await stores.killSwitch.get()).active).toBe(true);
  });

  it("a drawdown trip carries no resumeAt: it stays on across days until an operator resumes", async () => {
    await executedBuy("p-5", "BTC-USD", 5_000);
    await reconcilePortfolio(deps(), SETTINGS, T0);
    marks["BTC-USD"] = 64_000 * 0.6;
    await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-01T00:30:00.000Z"));
    expect((await stores.killSwitch.get()).resumeAt).toBeUndefined();
    await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-03T00:30:00.000Z"));
    expect((await stores.killSwitch.get()).active).toBe(true);
  });

  it("resuming after a drawdown halt: a plain resume is tripped again at once; resetPeak starts a new peak at the current equity, the daily-loss limit still holds", async () => {
    await executedBuy("p-6", "BTC-USD", 5_000);
    await reconcilePortfolio(deps(), SETTINGS, T0);
    const oldPeak = (await stores.portfolio.latestEquitySnapshot())!.equityUsd;
    marks["BTC-USD"] = 64_000 * 0.6; // about 20% under the peak, the next day
    const at = (iso: string) => new Date(`2024-07-01T${iso}:00.000Z`);
    expect((await reconcilePortfolio(deps(), SETTINGS, at("00:30"))).killSwitchTripped).toMatch(/drawdown/);
    const command = (resetPeak: boolean | undefined, now: Date) =>
      runKillSwitchCommand(
        { killSwitch: stores.killSwitch, portfolio: stores.portfolio, log: silentLog },
        { maxDailyLoss: 0.05, maxDrawdown: 0.15, dailyLossResumesNextDay: true },
        {
          action: "resume",
          by: "alice",
          reason: "reviewed",
          ...(resetPeak === undefined ? {} : { resetPeak }),
        },
        now,
      );

    // no choice made: refused, with both choices, and nothing changes
    const refused = await command(undefined, at("00:40"));
    expect(refused).toMatchObject({
      outcome: "refused",
      error: expect.stringMatching(/under its peak .* "resetPeak": true .* "resetPeak": false/s),
    });
    expect((await stores.killSwitch.get()).active).toBe(true);

    // a plain resume: the next portfolio run trips the switch again at once
    const plain = await command(false, at("00:41"));
    expect(plain).toMatchObject({ current: { active: false }, warning: expect.stringMatching(/drawdown/) });
    const again = await reconcilePortfolio(deps(), SETTINGS, at("00:42"));
    expect(again.killSwitchTripped).toMatch(/drawdown .* from peak/);
    expect(again.snapshot.peakEquityUsd).toBeCloseTo(oldPeak, 6);

    // resetPeak: the drawdown counts from the equity now; today's loss still pauses until midnight
    const reset = await command(true, at("00:43"));
    expect(reset).toMatchObject({
      current: { active: false, peakResetAt: at("00:43").toISOString() },
      peakReset: { previousPeakUsd: expect.closeTo(oldPeak, 6) },
      warning: expect.stringMatching(/daily loss .* until 2024-07-02T00:00:00.000Z/),
    });
    expect((await stores.killSwitch.auditTrail(1))[0]).toMatchObject({
      changedBy: "alice",
      reason: expect.stringMatching(/^reviewed \[resetPeak: a new equity peak starts/),
    });
    const afterReset = await reconcilePortfolio(deps(), SETTINGS, at("00:44"));
    const newPeak = afterReset.snapshot.equityUsd;
    expect(newPeak).toBeLessThan(oldPeak * 0.85);
    expect(afterReset.snapshot).toMatchObject({ peakEquityUsd: newPeak, drawdownPct: 0 });
    expect(afterReset.peakReset).toMatchObject({
      previousPeakUsd: expect.closeTo(oldPeak, 6),
      peakUsd: newPeak,
    });
    expect(afterReset.killSwitchTripped).toMatch(/^daily loss/);
    expect(afterReset.killSwitchTripped).not.toMatch(/drawdown/);

    // the next day the pause lifts and stays lifted: the reset is taken once, the new peak holds
    const nextDay = await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-02T00:30:00.000Z"));
    expect(nextDay.killSwitchResumed).toBeDefined();
    expect(nextDay.peakReset).toBeUndefined();
    expect(nextDay.snapshot.peakEquityUsd).toBeCloseTo(newPeak, 6);
    expect((await stores.killSwitch.get()).active).toBe(false);

    // and the limit holds from the new peak: a further fall of 15% of it trips the switch
    marks["BTC-USD"] = 64_000 * 0.35;
    const later = await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-03T00:30:00.000Z"));
    expect(later.killSwitchTripped).toContain(`from peak ${newPeak.toFixed(2)}`);
  });

  it("a peak reset not yet taken by a snapshot survives a pause in between", async () => {
    const cmd = { killSwitch: stores.killSwitch, portfolio: stores.portfolio, log: silentLog };
    const limits = { maxDailyLoss: 0.05, maxDrawdown: 0.15, dailyLossResumesNextDay: true };
    await runKillSwitchCommand(cmd, limits, { action: "resume", by: "a", reason: "r", resetPeak: true }, T0);
    const paused = await runKillSwitchCommand(cmd, limits, { action: "pause", by: "b", reason: "p" }, T0);
    expect(paused).toMatchObject({ current: { active: true, peakResetAt: T0.toISOString() } });
  });
});

describe("assets outside the traded universe (dust, stablecoins, airdrops)", () => {
  let fake: FakeCoinbase;
  let stores: Stores;
  let exchange: CoinbaseExchange;
  const HOUR = Math.floor(T0.getTime() / 3_600_000) * 3600;
  /** the portfolio function's own marks: stored closes, then the venue's best bid */
  const deps = () => ({
    ...stores,
    exchange,
    marks: candleMarks(stores.candles, "ONE_HOUR", exchange),
    log: silentLog,
  });

  beforeEach(async () => {
    await isolatedCloud("portfolio-dust");
    stores = createStores(createDocumentClient());
    // 3 ATOM (no ATOM product at this venue) and 25 USDT (USDT-USD is listed) beside the cash
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "10000", BTC: "0", ATOM: "3", USDT: "25" },
    });
    exchange = coinbaseExchangeOn(fake, testKey);
    await stores.candles.putCandles([candle("BTC-USD", HOUR - 3600, 64_000)]);
  });
  afterEach(async () => {
    await fake.close();
  });

  it("writes the snapshot with what it can price, reports the rest, and the kill switch still trips at a 50% drawdown", async () => {
    await riskApprovedRecommendation(stores, "d-1", "BTC-USD", 9_000, T0);
    await executeTrade({ ...stores, exchange, log: silentLog }, buyRequest("d-1", "BTC-USD", T0), T0);
    const first = await reconcilePortfolio(deps(), SETTINGS, T0);
    expect(first.unpriced).toEqual([
      {
        symbol: "ATOM-USD",
        quantity: "3",
        reason: expect.stringMatching(/no ONE_HOUR candle stored.*ATOM-USD/),
      },
    ]);
    const usdtBid = Number(fake.state.bestBidAsk("USDT-USD").bid);
    const btc = Number(fake.state.balance("BTC").available);
    const usd = Number(fake.state.balance("USD").available);
    // USDT is marked at the venue's best bid; ATOM counts 0 and gets no invented position
    expect(first.snapshot.equityUsd).toBeCloseTo(usd + btc * 64_000 + 25 * usdtBid, 6);
    expect(first.snapshot.unpricedAssets).toBe(1);
    expect((await stores.portfolio.latestEquitySnapshot())?.unpricedAssets).toBe(1);
    expect((await stores.portfolio.getPositions()).map((p) => [p.symbol, p.quantity, p.markPrice])).toEqual([
      ["BTC-USD", String(btc), "64000"],
      ["USDT-USD", "25", String(usdtBid)],
    ]);

    // the next day BTC closes 60% lower: about half the equity is gone
    await stores.candles.putCandles([candle("BTC-USD", HOUR + 12 * 3600, 64_000 * 0.4)]);
    const crash = await reconcilePortfolio(deps(), SETTINGS, new Date("2024-07-01T00:30:00.000Z"));
    expect(crash.snapshot.drawdownPct).toBeGreaterThan(50);
    expect(crash.snapshot.unpricedAssets).toBe(1);
    expect(crash.killSwitchTripped).toMatch(/drawdown .* reached the 15.0% limit/);
    expect(await stores.killSwitch.get()).toMatchObject({ active: true, changedBy: "portfolio (automatic)" });
  });

  it("a stored position that can no longer be priced keeps its last mark and quantity but counts 0 in equity", async () => {
    fake.state.addProduct({ productId: "ATOM-USD", price: "8.50", spread: "0.02" });
    const priced = await reconcilePortfolio(deps(), SETTINGS, T0);
    expect(priced.unpriced).toEqual([]);
    const atom = (await stores.portfolio.getPositions()).find((p) => p.symbol === "ATOM-USD");
    expect(atom).toMatchObject({ quantity: "3", markPrice: "8.49" });
    expect(priced.snapshot.equityUsd).toBeCloseTo(
      10_000 + 3 * 8.49 + 25 * Number(fake.state.bestBidAsk("USDT-USD").bid),
      6,
    );

    fake.state.books.delete("ATOM-USD"); // delisted
    fake.state.setBalance("ATOM", "3.5"); // and a staking reward arrived
    const later = await reconcilePortfolio(deps(), SETTINGS, new Date(T0.getTime() + 60_000));
    expect(later.unpriced.map((u) => [u.symbol, u.quantity])).toEqual([["ATOM-USD", "3.5"]]);
    expect(later.snapshot.positionsValueUsd).toBeCloseTo(
      25 * Number(fake.state.bestBidAsk("USDT-USD").bid),
      6,
    );
    expect((await stores.portfolio.getPositions()).find((p) => p.symbol === "ATOM-USD")).toMatchObject({
      quantity: "3.5",
      markPrice: "8.49",
    });
  });

  it("a mark that is not a positive number is unpriced; a failing store fails the run instead of zeroing a position", async () => {
    const garbage = await reconcilePortfolio(
      { ...deps(), marks: { markPrice: async (s: string) => (s === "USDT-USD" ? Number.NaN : 1) } },
      SETTINGS,
      T0,
    );
    expect(garbage.unpriced.map((u) => [u.symbol, u.reason])).toEqual([
      ["USDT-USD", "the mark price NaN is not a positive finite number"],
    ]);
    expect(garbage.snapshot.equityUsd).toBe(10_000 + 3);
    await expect(
      reconcilePortfolio(
        {
          ...deps(),
          marks: {
            markPrice: async () => {
              throw new Error("ProvisionedThroughputExceededException");
            },
          },
        },
        SETTINGS,
        T0,
      ),
    ).rejects.toThrow(/ProvisionedThroughputExceeded/);
    // an explicit "no price" is unpriced, not a failure
    const none = await reconcilePortfolio(
      {
        ...deps(),
        marks: {
          markPrice: async (s: string) => {
            throw new MarkUnavailableError(s, "no price anywhere");
          },
        },
      },
      SETTINGS,
      T0,
    );
    expect(none.unpriced.map((u) => u.symbol)).toEqual(["ATOM-USD", "USDT-USD"]);
    expect(none.snapshot.equityUsd).toBe(10_000);
  });
});

describe("average-cost accounting", () => {
  it("adds fees to the cost of a buy and takes them from the proceeds of a sell", () => {
    const base = {
      orderId: "o",
      clientOrderId: "c",
      symbol: "BTC-USD",
      liquidity: "TAKER" as const,
      tradeTime: "2024-06-30T12:00:00.000Z",
    };
    const bought = applyFill(
      undefined,
      { ...base, tradeId: "1", side: "BUY", price: "100", size: "2", commission: "1.2" },
      "t",
    );
    expect(bought).toMatchObject({
      quantity: "2",
      costBasisUsd: "201.20000000",
      averageEntryPrice: "100.60000000",
    });
    const sold = applyFill(
      bought,
      { ...base, tradeId: "2", side: "SELL", price: "110", size: "1", commission: "0.66" },
      "t",
    );
    // proceeds 110 − 0.66 fee − 100.60 average cost = 8.74
    expect(sold).toMatchObject({ quantity: "1", realizedPnlUsd: "8.74000000", costBasisUsd: "100.60000000" });
  });
});
