/**
 * Resting stop-limit orders through the live Coinbase client, against the fake Coinbase built to
 * protocols A.5: stop_limit_stop_limit_gtc on the wire, the base on hold, the trigger on the last
 * trade price, fills with commission, batch_cancel re-read until it lands, idempotent replays.
 */
import { Decimal } from "decimal.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCoinbaseKey } from "#coinbase/auth.js";
import { CoinbaseExchange, type CoinbaseExchangeOptions } from "#coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import { Fill } from "#domain/schemas.js";
import type { PlaceOrderRequest } from "#exchange/exchange.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { es256TestKey } from "./test-keys.js";

const testKey = es256TestKey();
const key = loadCoinbaseKey({ name: testKey.name, privateKey: testKey.sec1Pem });
let fake: FakeCoinbase;
let client: CoinbaseTradingClient;
let exchange: CoinbaseExchange;

function exchangeWith(options: CoinbaseExchangeOptions = {}) {
  return new CoinbaseExchange(client, { sleep: async () => {}, ...options });
}

beforeEach(async () => {
  // BTC-USD: mid 64000, bid 63996.80, ask 64003.20
  fake = await startFakeCoinbase({
    keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
    balances: { USD: "1000", BTC: "0.01" },
  });
  client = new CoinbaseTradingClient({ baseUrl: fake.baseUrl, key, sleep: async () => {}, timeoutMs: 300 });
  exchange = exchangeWith();
});
afterEach(async () => {
  await fake.close();
});

const stop = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: "pos-1-stop",
  productId: "BTC-USD",
  side: "SELL",
  type: "STOP_LIMIT",
  baseSize: "0.01",
  stopPrice: "60000",
  limitPrice: "59500",
  ...overrides,
});

async function placeStop(overrides: Partial<PlaceOrderRequest> = {}): Promise<string> {
  const placed = await exchange.placeOrder(stop(overrides));
  if (!placed.accepted) throw new Error(`${placed.reason}: ${placed.message}`);
  return placed.orderId;
}

const btcBalance = async () => (await exchange.getBalances()).BTC;

describe("a protective stop on Coinbase", () => {
  it("goes out as stop_limit_stop_limit_gtc STOP_DOWN and rests OPEN with the base on hold", async () => {
    const orderId = await placeStop({ stopPrice: "60000.004", limitPrice: "59500.001" });
    const stored = fake.state.orders.get(orderId)!;
    expect(stored.order_configuration).toEqual({
      stop_limit_stop_limit_gtc: {
        base_size: "0.01000000",
        limit_price: "59500.01",
        stop_price: "60000.01",
        stop_direction: "STOP_DIRECTION_STOP_DOWN",
      },
    });
    expect(await exchange.getOrder(orderId)).toMatchObject({
      status: "OPEN",
      venueStatus: "OPEN",
      type: "STOP_LIMIT",
      side: "SELL",
      clientOrderId: "pos-1-stop",
      baseSize: "0.01000000",
      stopPrice: "60000.01",
      limitPrice: "59500.01",
      triggered: false,
      filledSize: "0",
    });
    expect((await client.getOrder(orderId))?.trigger_status).toBe("STOP_PENDING");
    expect(await btcBalance()).toEqual({ available: "0", hold: "0.01" });
  });

  it("waits while the price stays above the stop; a fall through it fills at the bid with the taker fee", async () => {
    const orderId = await placeStop();
    fake.state.setPrice("BTC-USD", "60001", "60002");
    expect(await exchange.getOrder(orderId)).toMatchObject({ status: "OPEN", triggered: false });

    fake.state.setPrice("BTC-USD", "59900", "59901"); // last 59900.5 <= 60000; bid 59900 >= 59500
    expect(await exchange.getOrder(orderId)).toMatchObject({
      status: "FILLED",
      triggered: true,
      filledSize: "0.01",
      averageFilledPrice: "59900",
      filledValue: "599",
      totalFees: "3.594",
      completionPercentage: "100",
    });
    const fills = await exchange.listFills(orderId);
    expect(fills).toHaveLength(1);
    expect(Fill.parse(fills[0])).toMatchObject({
      clientOrderId: "pos-1-stop",
      side: "SELL",
      price: "59900",
      size: "0.01",
      commission: "3.594",
      liquidity: "TAKER",
    });
    const balances = await exchange.getBalances();
    expect(balances.BTC).toEqual({ available: "0", hold: "0" });
    expect(balances.USD).toEqual({ available: "1595.406", hold: "0" }); // 1000 + 599 - 3.594
  });

  it("a gap below the limit leaves it OPEN and triggered, base held; it fills at the limit, maker, when the bid is back", async () => {
    const orderId = await placeStop();
    fake.state.setPrice("BTC-USD", "59000", "59001");
    expect(await exchange.getOrder(orderId)).toMatchObject({
      status: "OPEN",
      triggered: true,
      filledSize: "0",
    });
    expect((await client.getOrder(orderId))?.trigger_status).toBe("STOP_TRIGGERED");
    expect(await btcBalance()).toEqual({ available: "0", hold: "0.01" });

    fake.state.setPrice("BTC-USD", "59600", "59601");
    expect(await exchange.getOrder(orderId)).toMatchObject({
      status: "FILLED",
      averageFilledPrice: "59500",
      totalFees: "2.38", // maker 0.4% of 595
    });
    expect((await exchange.listFills(orderId))[0]).toMatchObject({ liquidity: "MAKER", price: "59500" });
  });

  it("while it rests, selling the held base is refused INSUFFICIENT_FUND by the client and by the venue", async () => {
    await placeStop();
    const sell: PlaceOrderRequest = {
      clientOrderId: "pos-1-target",
      productId: "BTC-USD",
      side: "SELL",
      type: "MARKET",
      baseSize: "0.01",
    };
    const refused = await exchange.placeOrder(sell);
    expect(refused).toEqual({
      accepted: false,
      reason: "INSUFFICIENT_FUND",
      message:
        "pos-1-target: SELL BTC-USD needs 0.01 BTC, available 0 " +
        "(0.01 BTC on hold by open orders such as a resting stop: cancel it first)",
    });
    // the venue itself refuses it too, whatever a client checks first
    const raw = await client.createOrder("pos-1-target-raw", {
      product_id: "BTC-USD",
      side: "SELL",
      order_configuration: { market_market_ioc: { base_size: "0.01" } },
    });
    expect(raw).toMatchObject({ success: false, error: "INSUFFICIENT_FUND" });
    // and a second stop on the same base
    expect(await exchange.placeOrder(stop({ clientOrderId: "pos-1-stop-2" }))).toMatchObject({
      accepted: false,
      reason: "INSUFFICIENT_FUND",
    });
    expect(fake.state.orders.size).toBe(1);
  });

  it("refuses a stop the last trade already reached, and a limit above the stop, naming the problem", async () => {
    expect(await exchange.placeOrder(stop({ stopPrice: "64000", limitPrice: "63000" }))).toMatchObject({
      accepted: false,
      reason: "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
    });
    const local = await exchange.placeOrder(stop({ limitPrice: "60000.01" }));
    expect(local).toMatchObject({ accepted: false, reason: "STOP_PRICE_BELOW_LIMIT_PRICE" });
    expect(fake.requests.filter((r) => r.path.endsWith("/orders")).length).toBe(0);
    // the venue refuses both on its own, as its preview names them
    const body = (stop_price: string, limit_price: string, stop_direction = "STOP_DIRECTION_STOP_DOWN") => ({
      product_id: "BTC-USD",
      side: "SELL" as const,
      order_configuration: {
        stop_limit_stop_limit_gtc: { base_size: "0.01", stop_price, limit_price, stop_direction },
      },
    });
    expect((await client.previewOrder(body("60000", "60000.01"))).errs).toEqual([
      "PREVIEW_STOP_PRICE_BELOW_LIMIT_PRICE",
    ]);
    expect((await client.previewOrder(body("64000.01", "64000"))).errs).toEqual([
      "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
    ]);
    expect((await client.previewOrder(body("60000", "59000", "STOP_DIRECTION_STOP_UP"))).errs).toEqual([
      "PREVIEW_STOP_PRICE_BELOW_LAST_TRADE_PRICE",
    ]);
    await expect(client.previewOrder(body("60000", "59000", "DOWN"))).rejects.toMatchObject({ status: 400 });
    expect(await btcBalance()).toEqual({ available: "0.01", hold: "0" });
  });

  it("a BUY stop is STOP_UP and holds the quote for base x limit with the fee", async () => {
    const placed = await exchange.placeOrder(
      stop({ clientOrderId: "breakout", side: "BUY", stopPrice: "65000", limitPrice: "65500" }),
    );
    if (!placed.accepted) throw new Error(placed.message);
    expect(fake.state.orders.get(placed.orderId)!.order_configuration).toMatchObject({
      stop_limit_stop_limit_gtc: { stop_direction: "STOP_DIRECTION_STOP_UP" },
    });
    expect((await exchange.getBalances()).USD).toEqual({ available: "341.07", hold: "658.93" }); // 655 x 1.006
    fake.state.setPrice("BTC-USD", "65100", "65101");
    expect(await exchange.getOrder(placed.orderId)).toMatchObject({
      status: "FILLED",
      averageFilledPrice: "65101",
    });
    expect((await exchange.getBalances()).USD!.hold).toBe("0");
  });
});

describe("cancelling a resting stop", () => {
  it("releases the hold and reports the CANCELLED order; then the target SELL goes through, and a crash sells nothing more", async () => {
    const orderId = await placeStop();
    const cancelled = await exchange.cancelOrder(orderId);
    expect(cancelled).toMatchObject({
      cancelled: true,
      order: { orderId, status: "CANCELLED", type: "STOP_LIMIT", triggered: false, filledSize: "0" },
    });
    expect(await btcBalance()).toEqual({ available: "0.01", hold: "0" });
    const target = await exchange.placeOrder({
      clientOrderId: "pos-1-target",
      productId: "BTC-USD",
      side: "SELL",
      type: "MARKET",
      baseSize: "0.01",
    });
    expect(target.accepted).toBe(true);
    fake.state.setPrice("BTC-USD", "50000", "50001");
    expect(fake.state.fills.filter((f) => f.side === "SELL")).toHaveLength(1);
    expect(await exchange.cancelOrder(orderId)).toMatchObject({
      cancelled: false,
      reason: "UNKNOWN_CANCEL_ORDER",
      order: { status: "CANCELLED" },
    });
  });

  it("a cancel that lands late is re-read until CANCELLED", async () => {
    const orderId = await placeStop();
    fake.faults.slowCancel(3);
    const reads = () => fake.requests.filter((r) => r.path.endsWith(`/orders/historical/${orderId}`)).length;
    const before = reads();
    expect(await exchange.cancelOrder(orderId)).toMatchObject({
      cancelled: true,
      order: { status: "CANCELLED" },
    });
    expect(reads() - before).toBe(3);
    expect(await btcBalance()).toEqual({ available: "0.01", hold: "0" });
  });

  it("a cancel still pending after the polls says CANCEL_PENDING: the hold is not released yet", async () => {
    const orderId = await placeStop();
    fake.faults.slowCancel(10);
    const impatient = exchangeWith({ cancelPollAttempts: 2 });
    expect(await impatient.cancelOrder(orderId)).toMatchObject({
      cancelled: false,
      reason: "CANCEL_PENDING",
      order: { status: "OPEN" },
    });
    expect(await btcBalance()).toEqual({ available: "0", hold: "0.01" });
  });

  it("a stop that fills while its cancel is queued: FILLED_BEFORE_CANCEL, with the fill to book", async () => {
    const orderId = await placeStop();
    fake.faults.slowCancel(3);
    // the market crashes while the client waits between its reads
    const racing = exchangeWith({
      sleep: async () => fake.state.setPrice("BTC-USD", "59800", "59801"),
    });
    expect(await racing.cancelOrder(orderId)).toMatchObject({
      cancelled: false,
      reason: "FILLED_BEFORE_CANCEL",
      order: { status: "FILLED", filledSize: "0.01", averageFilledPrice: "59800" },
    });
    expect(await exchange.listFills(orderId)).toHaveLength(1);
  });

  it("after a restart, the stop that filled while we were away: cancel says so and nothing is sold twice", async () => {
    const orderId = await placeStop();
    fake.state.setPrice("BTC-USD", "59700", "59701"); // filled while the pipeline was down
    const restarted = exchangeWith();
    expect(await restarted.cancelOrder(orderId)).toMatchObject({
      cancelled: false,
      reason: "UNKNOWN_CANCEL_ORDER",
      order: { status: "FILLED", triggered: true, filledSize: "0.01", averageFilledPrice: "59700" },
    });
    const fills = await restarted.listFills(orderId);
    expect(fills.map((f) => [f.price, f.size, f.commission])).toEqual([["59700", "0.01", "3.582"]]);
    expect(
      await restarted.placeOrder({
        clientOrderId: "pos-1-target",
        productId: "BTC-USD",
        side: "SELL",
        type: "MARKET",
        baseSize: "0.01",
      }),
    ).toMatchObject({ accepted: false, reason: "INSUFFICIENT_FUND" });
  });
});

describe("never twice", () => {
  it("placing the same stop again, sequentially or 3 at once, is one order with one hold", async () => {
    const results = await Promise.all([1, 2, 3].map(() => exchange.placeOrder(stop())));
    const ids = new Set(results.map((r) => (r.accepted ? r.orderId : `refused ${r.reason}`)));
    expect(ids.size).toBe(1);
    const again = await exchangeWith().placeOrder(stop());
    expect(again).toMatchObject({ accepted: true, orderId: [...ids][0] });
    expect(fake.state.ordersCreatedFor("pos-1-stop")).toBe(1);
    expect(await btcBalance()).toEqual({ available: "0", hold: "0.01" });
    // and after it filled, a replay still adopts the one order
    fake.state.setPrice("BTC-USD", "59900", "59901");
    expect(await exchangeWith().placeOrder(stop())).toMatchObject({ accepted: true, orderId: [...ids][0] });
    expect(fake.state.fills).toHaveLength(1);
    expect(new Decimal((await exchange.getBalances()).USD!.available).toFixed()).toBe("1595.406");
  });
});
