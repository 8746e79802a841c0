import { beforeAll, describe, expect, it } from "vitest";
import { IllegalTransitionError, RecommendationNotFoundError, type Stores } from "#store/ports.js";
import { candle, recommendation, signal } from "./fixtures.js";
import { STORE_IMPLEMENTATIONS } from "./implementations.js";

describe.each(STORE_IMPLEMENTATIONS)("stores ($name)", (implementation) => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await implementation.fresh("stores");
  });

  it("candles: idempotent writes, latest N oldest-first, latest start, range", async () => {
    const base = 1_700_000_400;
    const series = Array.from({ length: 60 }, (_, i) => candle("ETH-USD", base + i * 3600, 2000 + i));
    expect(await stores.candles.putCandles(series)).toEqual({ written: 60 });
    expect(await stores.candles.putCandles(series.slice(50))).toEqual({ written: 10 });
    const latest = await stores.candles.latestCandles("ETH-USD", "ONE_HOUR", 5);
    expect(latest.map((c) => c.start)).toEqual(series.slice(55).map((c) => c.start));
    expect(await stores.candles.latestCandleStart("ETH-USD", "ONE_HOUR")).toBe(series[59].start);
    expect(await stores.candles.latestCandleStart("ETH-USD", "FIVE_MINUTE")).toBeUndefined();
    const range = await stores.candles.candlesBetween(
      "ETH-USD",
      "ONE_HOUR",
      series[10].start,
      series[14].start,
    );
    expect(range.map((c) => c.close)).toEqual([2010, 2011, 2012, 2013, 2014]);
    const all = await stores.candles.latestCandles("ETH-USD", "ONE_HOUR", 1000);
    expect(all).toHaveLength(60);
  });

  it("signals: once per id, the last hour across hour partitions, per symbol, processed flag", async () => {
    const now = new Date("2024-06-30T12:20:00.000Z");
    const inHour = signal({ signalId: "s-recent", createdAt: "2024-06-30T11:35:00.000Z", symbol: "SOL-USD" });
    const thisHour = signal({ signalId: "s-now", createdAt: "2024-06-30T12:10:00.000Z", symbol: "SOL-USD" });
    const old = signal({ signalId: "s-old", createdAt: "2024-06-30T11:05:00.000Z", symbol: "SOL-USD" });
    expect(await stores.signals.putSignal(inHour)).toBe(true);
    expect(await stores.signals.putSignal(inHour)).toBe(false);
    await stores.signals.putSignal(thisHour);
    await stores.signals.putSignal(old);
    const lastHour = await stores.signals.signalsSince(new Date(now.getTime() - 3_600_000), now);
    expect(lastHour.map((s) => s.signalId)).toEqual(["s-now", "s-recent"]);
    expect((await stores.signals.latestSignalsOfSymbol("SOL-USD", 2)).map((s) => s.signalId)).toEqual([
      "s-now",
      "s-recent",
    ]);
    await stores.signals.markProcessed("s-now");
    expect((await stores.signals.getSignal("s-now"))?.processed).toBe(true);
  });

  it("recommendations: created once; pending in a window, newest first; pending before a cut-off", async () => {
    const r1 = recommendation({
      recommendationId: "w-1",
      createdAt: "2024-06-30T10:00:00.000Z",
      confidence: 0.9,
    });
    const r2 = recommendation({
      recommendationId: "w-2",
      createdAt: "2024-06-30T11:00:00.000Z",
      confidence: 0.7,
    });
    const stale = recommendation({ recommendationId: "w-0", createdAt: "2024-06-30T07:00:00.000Z" });
    expect(await stores.recommendations.create(r1)).toBe(true);
    expect(await stores.recommendations.create(r1)).toBe(false);
    await stores.recommendations.create(r2);
    await stores.recommendations.create(stale);
    const now = new Date("2024-06-30T11:30:00.000Z");
    const window = await stores.recommendations.byStatusCreatedBetween(
      "PENDING",
      new Date(now.getTime() - 2 * 3_600_000),
      now,
    );
    expect(window.map((r) => r.recommendationId)).toEqual(["w-2", "w-1"]);
    const expired = await stores.recommendations.byStatusCreatedBefore(
      "PENDING",
      new Date(now.getTime() - 2 * 3_600_000),
    );
    expect(expired.map((r) => r.recommendationId)).toEqual(["w-0"]);
  });

  it("transitions: legal moves record history; repeats are no-ops; illegal moves are refused with a clear error", async () => {
    const rec = recommendation({ recommendationId: "t-1" });
    await stores.recommendations.create(rec);
    const now = new Date("2024-06-30T12:00:00.000Z");
    const first = await stores.recommendations.transition("t-1", "PENDING", "QUEUED", "top confidence", now);
    expect(first.changed).toBe(true);
    expect(first.recommendation.status).toBe("QUEUED");
    const repeat = await stores.recommendations.transition("t-1", "PENDING", "QUEUED", "top confidence", now);
    expect(repeat.changed).toBe(false);
    expect(repeat.recommendation.history).toHaveLength(1);

    await stores.recommendations.transition("t-1", "QUEUED", "VALIDATED", "LLM approved", now);
    await stores.recommendations.transition("t-1", "VALIDATED", "RISK_APPROVED", "within limits", now, {
      approvedAmountUsd: 80,
      stopLoss: 59_000,
      takeProfit: 65_000,
    });
    await stores.recommendations.transition("t-1", "RISK_APPROVED", "EXECUTING", "placing", now);
    const done = await stores.recommendations.transition("t-1", "EXECUTING", "EXECUTED", "filled", now, {
      orderId: "o-1",
    });
    expect(done.recommendation).toMatchObject({ status: "EXECUTED", approvedAmountUsd: 80, orderId: "o-1" });
    expect(done.recommendation.history.map((h) => h.to)).toEqual([
      "QUEUED",
      "VALIDATED",
      "RISK_APPROVED",
      "EXECUTING",
      "EXECUTED",
    ]);

    // EXECUTED -> QUEUED is not a move of the lifecycle
    await expect(
      stores.recommendations.transition("t-1", "EXECUTED", "QUEUED", "again", now),
    ).rejects.toThrow(IllegalTransitionError);
    // a legal move from a state the item is no longer in
    await expect(
      stores.recommendations.transition("t-1", "PENDING", "EXPIRED", "too old", now),
    ).rejects.toThrow(/cannot move PENDING → EXPIRED because it is EXECUTED/);
    await expect(stores.recommendations.transition("nope", "PENDING", "QUEUED", "x", now)).rejects.toThrow(
      RecommendationNotFoundError,
    );
    expect((await stores.recommendations.get("t-1"))?.history).toHaveLength(5);
  });

  it("50 concurrent attempts at the same transition produce exactly one winner", async () => {
    await stores.recommendations.create(recommendation({ recommendationId: "race-1" }));
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stores.recommendations.transition("race-1", "PENDING", "QUEUED", `attempt ${i}`, now),
      ),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    const stored = await stores.recommendations.get("race-1");
    expect(stored?.history).toHaveLength(1);
    // two different targets racing: one wins, the loser is refused
    await stores.recommendations.create(recommendation({ recommendationId: "race-2" }));
    const outcomes = await Promise.allSettled([
      stores.recommendations.transition("race-2", "PENDING", "QUEUED", "bridge", now),
      stores.recommendations.transition("race-2", "PENDING", "EXPIRED", "expiry", now),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(1);
  });

  it("decisions: one validation and one risk decision per recommendation", async () => {
    const validation = {
      recommendationId: "d-1",
      decision: "APPROVE" as const,
      confidence: 0.8,
      reasoning: "trend intact",
      riskAssessment: { level: "LOW" as const, factors: ["trend"] },
      model: "phi3:3.8b",
      promptVersion: "v1",
      latencyMs: 1200,
      rawAnswer: "{}",
      createdAt: new Date().toISOString(),
    };
    expect((await stores.decisions.putValidation(validation)).created).toBe(true);
    const again = await stores.decisions.putValidation({ ...validation, decision: "REJECT" });
    expect(again).toMatchObject({ created: false, validation: { decision: "APPROVE" } });
    const risk = {
      recommendationId: "d-1",
      decision: "APPROVE" as const,
      refusals: [],
      volatility14d: 0.03,
      portfolioHeat: 0.1,
      riskScore: 30,
      kellyFraction: 0.05,
      requestedAmountUsd: 100,
      adjustedAmountUsd: 90,
      stopLoss: 58_000,
      takeProfit: 66_000,
      createdAt: new Date().toISOString(),
    };
    expect((await stores.decisions.putRiskDecision(risk)).created).toBe(true);
    expect(
      (await stores.decisions.putRiskDecision({ ...risk, adjustedAmountUsd: 1 })).decision.adjustedAmountUsd,
    ).toBe(90);
    expect(await stores.decisions.getValidation("d-1")).toEqual(validation);
    expect(await stores.decisions.getRiskDecision("d-1")).toEqual(risk);
  });

  it("orders: created once per client order id; orders leave the sparse index once terminal and reconciled; fills once", async () => {
    const at = "2024-06-30T12:00:00.000Z";
    const order = {
      clientOrderId: "co-1",
      orderId: "ex-1",
      recommendationId: "r-1",
      venue: "paper" as const,
      symbol: "BTC-USD",
      side: "BUY" as const,
      type: "LIMIT" as const,
      baseSize: "0.001",
      limitPrice: "60000.00",
      status: "OPEN" as const,
      filledSize: "0",
      averageFilledPrice: "0",
      filledValue: "0",
      totalFees: "0",
      createdAt: at,
      updatedAt: at,
    };
    expect((await stores.orders.putOrderIfAbsent(order)).created).toBe(true);
    expect((await stores.orders.putOrderIfAbsent({ ...order, orderId: "ex-2" })).order.orderId).toBe("ex-1");
    expect((await stores.orders.openOrders()).map((o) => o.clientOrderId)).toEqual(["co-1"]);
    const fill = {
      tradeId: "t-1",
      orderId: "ex-1",
      clientOrderId: "co-1",
      symbol: "BTC-USD",
      side: "BUY" as const,
      price: "60000.00",
      size: "0.001",
      commission: "0.36",
      liquidity: "MAKER" as const,
      tradeTime: at,
    };
    expect(await stores.orders.putFill(fill)).toBe(true);
    expect(await stores.orders.putFill(fill)).toBe(false);
    await stores.orders.updateOrder({
      ...order,
      status: "FILLED",
      filledSize: "0.001",
      averageFilledPrice: "60000.00",
    });
    // filled but its fills not yet applied to the positions: still for the portfolio to reconcile
    expect((await stores.orders.openOrders()).map((o) => o.status)).toEqual(["FILLED"]);
    await stores.orders.updateOrder({
      ...order,
      status: "FILLED",
      filledSize: "0.001",
      averageFilledPrice: "60000.00",
      reconciled: true,
    });
    expect(await stores.orders.openOrders()).toEqual([]);
    expect(await stores.orders.fillsOf("co-1")).toEqual([fill]);
    expect((await stores.orders.getOrder("co-1"))?.status).toBe("FILLED");
  });

  it("portfolio: positions, equity history and latest snapshot", async () => {
    const position = {
      symbol: "BTC-USD",
      quantity: "0.002",
      averageEntryPrice: "60000",
      costBasisUsd: "120",
      realizedPnlUsd: "0",
      markPrice: "61000",
      marketValueUsd: "122",
      updatedAt: "2024-06-30T12:00:00.000Z",
    };
    await stores.portfolio.putPosition(position);
    expect(await stores.portfolio.getPositions()).toEqual([position]);
    for (const [i, at] of [
      "2024-06-30T10:00:00.000Z",
      "2024-06-30T11:00:00.000Z",
      "2024-06-30T12:00:00.000Z",
    ].entries()) {
      await stores.portfolio.putEquitySnapshot({
        at,
        equityUsd: 10_000 + i,
        cashUsd: 9_000,
        positionsValueUsd: 1000 + i,
        peakEquityUsd: 10_002,
        drawdownPct: 0,
        dayStartEquityUsd: 10_000,
        dailyPnlUsd: i,
        dailyPnlPct: i / 100,
        tradesToday: 1,
      });
    }
    expect((await stores.portfolio.latestEquitySnapshot())?.equityUsd).toBe(10_002);
    const history = await stores.portfolio.equityHistory(
      new Date("2024-06-30T10:30:00.000Z"),
      new Date("2024-06-30T12:00:00.000Z"),
    );
    expect(history.map((s) => s.equityUsd)).toEqual([10_001, 10_002]);
  });

  it("kill switch: off until set; pause and resume leave an audit trail", async () => {
    expect((await stores.killSwitch.get()).active).toBe(false);
    await stores.killSwitch.set(true, "alice", "exchange outage", new Date("2024-06-30T12:00:00.000Z"));
    expect(await stores.killSwitch.get()).toMatchObject({
      active: true,
      changedBy: "alice",
      reason: "exchange outage",
    });
    await stores.killSwitch.set(false, "bob", "outage over", new Date("2024-06-30T13:00:00.000Z"));
    expect((await stores.killSwitch.get()).active).toBe(false);
    const trail = await stores.killSwitch.auditTrail(10);
    expect(trail.map((k) => [k.changedBy, k.active])).toEqual([
      ["bob", false],
      ["alice", true],
    ]);
  });
});
