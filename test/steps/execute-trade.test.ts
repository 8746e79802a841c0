import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExecutionRequest } from "#domain/schemas.js";
import { silentLog } from "#runtime/log.js";
import {
  clientOrderIdFor,
  DEFAULT_EXECUTION_SETTINGS,
  type ExecutionDeps,
  executeTrade,
  resolveStuckExecution,
  stuckExecutions,
} from "#steps/execute-trade.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { recommendation } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import {
  approvingDecision,
  buyRequest,
  coinbaseExchangeOn,
  executionMessage,
  referenceClosesFromVenue,
  riskApprovedRecommendation,
  walkLifecycle,
} from "#test/support/steps.js";

const testKey = es256TestKey();
const T0 = new Date("2024-06-30T12:00:00.000Z");
const later = (ms: number) => new Date(T0.getTime() + ms);

describe("the executor trades exactly what was approved, and books sells truthfully", () => {
  let fake: FakeCoinbase;
  let stores: Stores;
  let deps: (options?: { timeoutMs?: number }) => ExecutionDeps;

  beforeEach(async () => {
    await isolatedCloud("execute");
    stores = createStores(createDocumentClient());
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "10000", BTC: "0.005", ETH: "0" },
    });
    deps = (options = {}) => ({
      ...stores,
      // one attempt per delivery: a lost response surfaces as a failed delivery SQS retries
      exchange: coinbaseExchangeOn(fake, testKey, { maxAttempts: 1, timeoutMs: 400, ...options }),
      log: silentLog,
    });
    await referenceClosesFromVenue(stores, deps().exchange, ["BTC-USD", "ETH-USD"], T0);
  });
  afterEach(async () => {
    await fake.close();
  });

  const createdOrders = () => [...fake.state.orders.values()];

  it("a message naming another symbol or side is refused and trades nothing; extra fields are never read", async () => {
    await riskApprovedRecommendation(stores, "x-1", "BTC-USD", 100, T0);
    const forged = ExecutionRequest.parse({
      ...executionMessage("x-1", "ETH-USD", "BUY", T0),
      amountUsd: 2500,
    });
    const refused = await executeTrade(deps(), forged, T0);
    expect(refused).toMatchObject({ outcome: "message-refused" });
    expect(refused.outcome === "message-refused" && refused.reason).toMatch(
      /says BUY ETH-USD, the recommendation is BUY BTC-USD/,
    );
    const wrongSide = await executeTrade(deps(), executionMessage("x-1", "BTC-USD", "SELL", T0), T0);
    expect(wrongSide).toMatchObject({ outcome: "message-refused" });
    expect(createdOrders()).toHaveLength(0);
    expect((await stores.recommendations.get("x-1"))?.status).toBe("RISK_APPROVED");

    // the same recommendation with an inflated amount: the approved $100 is what goes out
    const inflated = ExecutionRequest.parse({ ...buyRequest("x-1", "BTC-USD", T0), amountUsd: 2500 });
    expect(inflated).not.toHaveProperty("amountUsd");
    const done = await executeTrade(deps(), inflated, T0);
    expect(done.outcome).toBe("executed");
    expect(createdOrders().map((o) => [o.product_id, o.side, o.quoteSize?.toFixed()])).toEqual([
      ["BTC-USD", "BUY", "100"],
    ]);
  });

  it("a recommendation without a stored approval that fixes the order is never traded", async () => {
    for (const id of ["x-none", "x-old"]) {
      await stores.recommendations.create(recommendation({ recommendationId: id, symbol: "BTC-USD" }));
      await walkLifecycle(stores, id, "RISK_APPROVED", T0);
    }
    // x-old: an approval stored by an older version, which fixed no order: refused, not guessed
    await stores.decisions.putRiskDecision(approvingDecision("x-old", 100, T0, undefined));
    const none = await executeTrade(deps(), buyRequest("x-none", "BTC-USD", T0), T0);
    expect(none).toMatchObject({
      outcome: "message-refused",
      reason: expect.stringMatching(/no risk decision/),
    });
    const old = await executeTrade(deps(), buyRequest("x-old", "BTC-USD", T0), T0);
    expect(old).toMatchObject({
      outcome: "message-refused",
      reason: expect.stringMatching(/fixes no order/),
    });
    expect(createdOrders()).toHaveLength(0);
  });

  it("a SELL whose response was lost after the exchange filled it is adopted on retry, not re-sized to 0 and failed", async () => {
    await riskApprovedRecommendation(stores, "s-1", "BTC-USD", 300, T0, { baseSize: "0.005" });
    fake.faults.hangAfterAccept(1, { match: { method: "POST", path: /^\/orders$/ } });
    await expect(executeTrade(deps(), executionMessage("s-1", "BTC-USD", "SELL", T0), T0)).rejects.toThrow();
    expect(fake.state.balance("BTC").available).toBe("0"); // the exchange sold it all

    const retry = await executeTrade(deps(), executionMessage("s-1", "BTC-USD", "SELL", T0), later(30_000));
    expect(retry.outcome).toBe("executed");
    const cid = clientOrderIdFor("s-1");
    const order = await stores.orders.getOrder(cid);
    expect(order).toMatchObject({
      status: "FILLED",
      filledSize: "0.005",
      side: "SELL",
      baseSize: "0.00500000",
    });
    expect(fake.state.ordersCreatedFor(cid)).toBe(1);
    expect((await stores.recommendations.get("s-1"))?.status).toBe("EXECUTED");

    // the portfolio books the exchange's fills: realized P&L is not lost
    const report = await reconcilePortfolio(
      { ...stores, exchange: deps().exchange, log: silentLog, marks: { markPrice: async () => 64_000 } },
      { maxDailyLoss: 0.05, maxDrawdown: 0.15, dailyLossResumesNextDay: true, quoteCurrency: "USD" },
      later(60_000),
    );
    expect(report.newFills.map((f) => [f.side, f.size])).toEqual([["SELL", "0.005"]]);
    expect(await stores.orders.fillsOf(cid)).toHaveLength(1);
  });

  it("three concurrent deliveries of one SELL: one order at the exchange and books that agree with it", async () => {
    await riskApprovedRecommendation(stores, "s-3", "BTC-USD", 150, T0, { baseSize: "0.0025" });
    fake.faults.hangAfterAccept(1, { match: { method: "POST", path: /^\/orders$/ } });
    const message = executionMessage("s-3", "BTC-USD", "SELL", T0);
    const results = await Promise.allSettled([1, 2, 3].map(() => executeTrade(deps(), message, T0)));
    // whatever each delivery saw, SQS delivers the failed ones again
    for (let round = 0; round < 3; round++) {
      if ((await stores.recommendations.get("s-3"))?.status === "EXECUTED") break;
      await executeTrade(deps(), message, later(10_000 * (round + 1))).catch(() => {});
    }
    // the creator's answer was lost; its twins either adopted the order or left it to a retry
    expect(results.filter((r) => r.status === "rejected").length).toBeGreaterThan(0);
    const cid = clientOrderIdFor("s-3");
    expect(fake.state.ordersCreatedFor(cid)).toBe(1);
    const [exchangeOrder] = createdOrders();
    const order = await stores.orders.getOrder(cid);
    expect(order).toMatchObject({
      orderId: exchangeOrder!.order_id,
      status: "FILLED",
      filledSize: exchangeOrder!.filledSize.toFixed(),
    });
    expect((await stores.recommendations.get("s-3"))?.status).toBe("EXECUTED");
    expect(fake.state.balance("BTC").available).toBe("0.0025");
  });

  it("a garbage best bid (0.01) refuses the SELL with the reason; nothing is sent and the position stays", async () => {
    await riskApprovedRecommendation(stores, "s-bad", "BTC-USD", 50, T0, { baseSize: "0.00078" });
    const { ask } = fake.state.bestBidAsk("BTC-USD");
    fake.state.setPrice("BTC-USD", "0.01", ask);
    const result = await executeTrade(deps(), executionMessage("s-bad", "BTC-USD", "SELL", T0), T0);
    expect(result).toMatchObject({ outcome: "failed", priceRefusal: true });
    const rec = await stores.recommendations.get("s-bad");
    expect(rec?.status).toBe("FAILED");
    expect(rec?.statusReason).toMatch(/QUOTE_INVALID|QUOTE_OUTSIDE_BAND/);
    expect(rec?.statusReason).toMatch(/0\.01/);
    expect(fake.state.createRequestsFor(clientOrderIdFor("s-bad"))).toBe(0);
    expect(fake.state.balance("BTC").available).toBe("0.005");
    expect((await stores.orders.getOrder(clientOrderIdFor("s-bad")))?.status).toBe("FAILED");
  });

  it("a quote outside the band refuses a BUY; a quote inside it goes through", async () => {
    await riskApprovedRecommendation(stores, "b-band", "ETH-USD", 100, T0);
    const { bid, ask } = fake.state.bestBidAsk("ETH-USD");
    fake.state.setPrice("ETH-USD", String(Number(bid) * 1.2), String(Number(ask) * 1.2));
    const out = await executeTrade(
      deps(),
      buyRequest("b-band", "ETH-USD", T0),
      T0,
      DEFAULT_EXECUTION_SETTINGS,
    );
    expect(out).toMatchObject({ outcome: "failed", priceRefusal: true });
    expect((await stores.recommendations.get("b-band"))?.statusReason).toMatch(/QUOTE_OUTSIDE_BAND.*±10\.0%/);

    await riskApprovedRecommendation(stores, "b-ok", "ETH-USD", 100, T0);
    const wide = await executeTrade(deps(), buyRequest("b-ok", "ETH-USD", T0), T0, {
      ...DEFAULT_EXECUTION_SETTINGS,
      priceBand: 0.25,
    });
    expect(wide.outcome).toBe("executed");
  });

  it("a sell is capped at the approved size, never the whole position", async () => {
    await riskApprovedRecommendation(stores, "s-cap", "BTC-USD", 50, T0, { baseSize: "0.001" });
    expect((await executeTrade(deps(), executionMessage("s-cap", "BTC-USD", "SELL", T0), T0)).outcome).toBe(
      "executed",
    );
    expect(createdOrders().map((o) => o.baseSize?.toFixed())).toEqual(["0.001"]);
    expect(fake.state.balance("BTC").available).toBe("0.004");
  });

  it("a twin that finds another delivery's fresh record does not record a refusal; after the claim lapses it does", async () => {
    await riskApprovedRecommendation(stores, "s-twin", "BTC-USD", 50, T0, { baseSize: "0.001" });
    // the first delivery recorded its order and died before sending anything
    fake.faults.hangBeforeAccept(1, { method: "POST", path: /^\/orders$/ });
    await expect(
      executeTrade(deps(), executionMessage("s-twin", "BTC-USD", "SELL", T0), T0),
    ).rejects.toThrow();
    const { ask } = fake.state.bestBidAsk("BTC-USD");
    fake.state.setPrice("BTC-USD", "0.01", ask);
    await expect(
      executeTrade(deps(), executionMessage("s-twin", "BTC-USD", "SELL", T0), later(5_000)),
    ).rejects.toThrow(/may still be placing it/);
    expect((await stores.recommendations.get("s-twin"))?.status).toBe("EXECUTING");
    const lapsed = await executeTrade(
      deps(),
      executionMessage("s-twin", "BTC-USD", "SELL", T0),
      later(300_000),
    );
    expect(lapsed).toMatchObject({ outcome: "failed" });
    expect(fake.state.ordersCreatedFor(clientOrderIdFor("s-twin"))).toBe(0);
  });

  it("stuck EXECUTING recommendations are listed, and an operator resolves them against the exchange", async () => {
    await riskApprovedRecommendation(stores, "k-placed", "BTC-USD", 40, T0);
    await riskApprovedRecommendation(stores, "k-none", "ETH-USD", 40, T0);
    await stores.portfolio.recordApproval(
      {
        recommendationId: "k-none",
        symbol: "ETH-USD",
        side: "BUY",
        amountUsd: 40,
        createdAt: T0.toISOString(),
      },
      "2024-06-30",
    );
    // k-placed: accepted by the exchange, the answer lost (then a 401 for every retry, say)
    fake.faults.hangAfterAccept(1, { match: { method: "POST", path: /^\/orders$/ } });
    await expect(executeTrade(deps(), buyRequest("k-placed", "BTC-USD", T0), T0)).rejects.toThrow();
    // k-none: the request never reached the exchange
    fake.faults.hangBeforeAccept(1, { method: "POST", path: /^\/orders$/ });
    await expect(executeTrade(deps(), buyRequest("k-none", "ETH-USD", T0), T0)).rejects.toThrow();

    expect(await stuckExecutions(stores.recommendations, later(60_000), 15 * 60_000)).toEqual([]);
    const stuck = await stuckExecutions(stores.recommendations, later(20 * 60_000), 15 * 60_000);
    expect(stuck.map((r) => r.recommendationId).sort()).toEqual(["k-none", "k-placed"]);

    const placed = await resolveStuckExecution(deps(), "k-placed", later(20 * 60_000));
    expect(placed).toMatchObject({ resolution: "adopted" });
    expect((await stores.recommendations.get("k-placed"))?.status).toBe("EXECUTED");
    expect((await stores.orders.getOrder(clientOrderIdFor("k-placed")))?.status).toBe("FILLED");

    const none = await resolveStuckExecution(deps(), "k-none", later(20 * 60_000));
    expect(none).toMatchObject({ resolution: "failed" });
    expect((await stores.recommendations.get("k-none"))?.statusReason).toMatch(/holds no order/);
    expect(await stores.portfolio.reservations()).toEqual([]);
    expect(await resolveStuckExecution(deps(), "k-none", later(21 * 60_000))).toMatchObject({
      resolution: "not-stuck",
    });
    expect(fake.state.ordersCreatedFor(clientOrderIdFor("k-none"))).toBe(0);
  });
});
