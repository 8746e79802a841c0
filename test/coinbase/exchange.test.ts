import { Decimal } from "decimal.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCoinbaseKey } from "#coinbase/auth.js";
import { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import { Fill } from "#domain/schemas.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { es256TestKey } from "./test-keys.js";

const testKey = es256TestKey();
const key = loadCoinbaseKey({ name: testKey.name, privateKey: testKey.sec1Pem });
let fake: FakeCoinbase;
let client: CoinbaseTradingClient;
let exchange: CoinbaseExchange;

beforeEach(async () => {
  fake = await startFakeCoinbase({
    keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
    balances: { USD: "1000", BTC: "0.01", ETH: "0", SOL: "0", DOGE: "0" },
    maxAccountsPerPage: 2,
  });
  client = new CoinbaseTradingClient({ baseUrl: fake.baseUrl, key, sleep: async () => {}, timeoutMs: 300 });
  exchange = new CoinbaseExchange(client);
});
afterEach(async () => {
  await fake.close();
});

describe("CoinbaseExchange on the fake", () => {
  it("reads balances across account pages, product rules and the best bid/ask", async () => {
    const balances = await exchange.getBalances();
    expect(balances).toEqual({
      BTC: { available: "0.01", hold: "0" },
      DOGE: { available: "0", hold: "0" },
      ETH: { available: "0", hold: "0" },
      SOL: { available: "0", hold: "0" },
      USD: { available: "1000", hold: "0" },
    });
    expect(fake.requests.filter((r) => r.path.endsWith("/accounts")).length).toBe(3);
    expect(await exchange.getProductRules("SOL-USD")).toMatchObject({
      productId: "SOL-USD",
      baseIncrement: "0.001",
      quoteMinSize: "1",
      tradable: true,
      limitOnly: false,
    });
    const book = await exchange.getBestBidAsk("BTC-USD");
    expect(new Decimal(book.ask).gt(book.bid)).toBe(true);
    expect(fake.state.bestBidAsk("BTC-USD")).toEqual({ bid: book.bid, ask: book.ask });
  });

  it("market BUY by quote: previews, fills at the ask, spends the quote incl. 0.6% fee, exposes fills", async () => {
    const { ask } = fake.state.bestBidAsk("ETH-USD");
    const result = await exchange.placeOrder({
      clientOrderId: "rec-1-buy",
      productId: "ETH-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "100.009",
    });
    expect(result).toMatchObject({
      accepted: true,
      clientOrderId: "rec-1-buy",
      submitted: { quoteSize: "100.00" },
    });
    if (!result.accepted) return;
    expect(fake.requests.some((r) => r.path.endsWith("/orders/preview"))).toBe(true);
    const order = await exchange.getOrder(result.orderId);
    expect(order).toMatchObject({
      status: "FILLED",
      side: "BUY",
      type: "MARKET",
      clientOrderId: "rec-1-buy",
    });
    expect(order!.averageFilledPrice).toBe(ask);
    const spent = new Decimal(order!.filledValue).plus(order!.totalFees);
    expect(spent.lte(100)).toBe(true);
    expect(spent.gt("99.99")).toBe(true);
    expect(new Decimal(order!.totalFees).div(order!.filledValue).toDecimalPlaces(6).toString()).toBe("0.006");
    const balances = await exchange.getBalances();
    expect(new Decimal(balances.USD!.available).plus(spent).toString()).toBe("1000");
    expect(balances.ETH!.available).toBe(order!.filledSize);
    const fills = await exchange.listFills(result.orderId);
    expect(fills).toHaveLength(1);
    expect(Fill.parse(fills[0])).toMatchObject({
      clientOrderId: "rec-1-buy",
      price: ask,
      liquidity: "TAKER",
      side: "BUY",
    });
    expect(await exchange.getOrder("no-such-order")).toBeUndefined();
  });

  it("placing the same client_order_id twice creates exactly one order, even after the funds were spent", async () => {
    const request = {
      clientOrderId: "rec-2",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "990",
    } as const;
    const first = await exchange.placeOrder(request);
    const second = await exchange.placeOrder(request);
    expect(first.accepted && second.accepted).toBe(true);
    expect(second).toEqual(first);
    expect(fake.state.ordersCreatedFor("rec-2")).toBe(1);
    expect(fake.state.orders.size).toBe(1);
  });

  it("the raw create replays the original success body and creates nothing", async () => {
    const body = {
      product_id: "BTC-USD",
      side: "BUY" as const,
      order_configuration: { market_market_ioc: { quote_size: "10.00" } },
    };
    const a = await client.createOrder("rec-raw", body);
    const b = await client.createOrder("rec-raw", body);
    expect(a).toMatchObject({ success: true });
    expect(b).toEqual(a);
    expect(fake.state.createRequestsFor("rec-raw")).toBe(2);
    expect(fake.state.ordersCreatedFor("rec-raw")).toBe(1);
  });

  it("a create that times out after the exchange accepted it is replayed safely: one order", async () => {
    fake.faults.hangAfterAccept(1);
    const result = await exchange.placeOrder({
      clientOrderId: "rec-3",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "50",
    });
    expect(result.accepted).toBe(true);
    expect(fake.state.createRequestsFor("rec-3")).toBe(2);
    expect(fake.state.ordersCreatedFor("rec-3")).toBe(1);
  });

  it("a dropped connection after accept, and 429/5xx before it, still give one order", async () => {
    fake.faults.hangAfterAccept(1, { mode: "destroy" });
    fake.faults.rateLimit(1, { method: "POST", path: /^\/orders$/ });
    fake.faults.serverError(1, 503, { method: "POST", path: /^\/orders$/ });
    const result = await exchange.placeOrder({
      clientOrderId: "rec-4",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "20",
    });
    expect(result.accepted).toBe(true);
    const statuses = fake.requests
      .filter((r) => r.method === "POST" && r.path.endsWith("/orders"))
      .map((r) => r.status);
    expect(statuses.slice(0, 2)).toEqual([429, 503]);
    expect(fake.state.ordersCreatedFor("rec-4")).toBe(1);
  });

  it("a rejection is a value carrying the exchange's reason, not an exception", async () => {
    fake.faults.reject({ error: "INSUFFICIENT_FUND", message: "Insufficient balance in source account" });
    const result = await exchange.placeOrder({
      clientOrderId: "rec-5",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "20",
    });
    expect(result).toEqual({
      accepted: false,
      reason: "INSUFFICIENT_FUND",
      message:
        "Coinbase rejected rec-5 (BUY BTC-USD): INSUFFICIENT_FUND: Insufficient balance in source account",
    });
    const raw = await client.createOrder("rec-5b", {
      product_id: "BTC-USD",
      side: "BUY",
      order_configuration: { market_market_ioc: { quote_size: "5000.00" } },
    });
    expect(raw).toEqual({
      success: false,
      error: "INSUFFICIENT_FUND",
      message: "Insufficient balance in source account",
      previewFailureReason: "PREVIEW_INSUFFICIENT_FUND",
      newOrderFailureReason: "INSUFFICIENT_FUND",
    });
    expect(fake.state.orders.size).toBe(0);
  });

  it("refuses before ordering: balance, minimum size, limit-only books, malformed requests", async () => {
    const tooMuch = await exchange.placeOrder({
      clientOrderId: "rec-6",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "1500",
    });
    expect(tooMuch).toMatchObject({ accepted: false, reason: "INSUFFICIENT_FUND" });
    expect((tooMuch as { message: string }).message).toMatch(/needs 1500 USD, available 1000/);
    const sellMore = await exchange.placeOrder({
      clientOrderId: "rec-6s",
      productId: "BTC-USD",
      side: "SELL",
      type: "MARKET",
      baseSize: "0.02",
    });
    expect(sellMore).toMatchObject({ accepted: false, reason: "INSUFFICIENT_FUND" });
    const dust = await exchange.placeOrder({
      clientOrderId: "rec-7",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "0.5",
    });
    expect(dust).toMatchObject({ accepted: false, reason: "QUOTE_SIZE_TOO_SMALL" });
    const floored = await exchange.placeOrder({
      clientOrderId: "rec-8",
      productId: "SOL-USD",
      side: "BUY",
      type: "LIMIT",
      baseSize: "0.0009",
      limitPrice: "100",
    });
    expect(floored).toMatchObject({ accepted: false, reason: "SIZE_NOT_POSITIVE" });
    const malformed = await exchange.placeOrder({
      clientOrderId: "rec 9",
      productId: "BTC-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "10",
    });
    expect(malformed).toMatchObject({ accepted: false, reason: "INVALID_ORDER_REQUEST" });
    expect(fake.state.orders.size).toBe(0);
    expect(fake.requests.some((r) => r.method === "POST" && r.path.endsWith("/orders"))).toBe(false);
  });

  it("a preview error stops the order", async () => {
    fake.state.product("DOGE-USD")!.quote_min_size = "500";
    const result = await exchange.placeOrder({
      clientOrderId: "rec-10",
      productId: "DOGE-USD",
      side: "BUY",
      type: "MARKET",
      quoteSize: "100",
    });
    // rules are read fresh here, so the local check refuses before any preview
    expect(result).toMatchObject({ accepted: false, reason: "QUOTE_SIZE_TOO_SMALL" });
    // rules cached before the exchange raised the minimum: only the preview can catch it
    const cached = new CoinbaseExchange(client);
    await cached.getProductRules("ETH-USD");
    fake.state.product("ETH-USD")!.base_min_size = "1";
    const viaPreview = await cached.placeOrder({
      clientOrderId: "rec-11",
      productId: "ETH-USD",
      side: "BUY",
      type: "MARKET",
      baseSize: "0.01",
    });
    expect(viaPreview).toMatchObject({ accepted: false, reason: "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL" });
    expect(fake.state.createRequestsFor("rec-11")).toBe(0);
  });

  it("partial fills stay OPEN below 100% and complete later", async () => {
    fake.faults.partialFill("0.4");
    const result = await exchange.placeOrder({
      clientOrderId: "rec-12",
      productId: "BTC-USD",
      side: "SELL",
      type: "MARKET",
      baseSize: "0.005",
    });
    if (!result.accepted) throw new Error(result.message);
    const partial = await exchange.getOrder(result.orderId);
    expect(partial).toMatchObject({ status: "OPEN", filledSize: "0.002", completionPercentage: "40" });
    expect(fake.state.completePartialFills()).toBe(1);
    const done = await exchange.getOrder(result.orderId);
    expect(done).toMatchObject({ status: "FILLED", filledSize: "0.005", completionPercentage: "100" });
    expect(await exchange.listFills(result.orderId)).toHaveLength(2);
    expect((await exchange.getBalances()).BTC!.available).toBe("0.005");
  });

  it("limit GTC orders rest OPEN holding funds until the price crosses; cancel releases the hold", async () => {
    const { ask } = fake.state.bestBidAsk("BTC-USD");
    const limitPrice = new Decimal(ask).mul("0.9").toFixed(2);
    const buy = await exchange.placeOrder({
      clientOrderId: "rec-13",
      productId: "BTC-USD",
      side: "BUY",
      type: "LIMIT",
      baseSize: "0.001234567891",
      limitPrice: `${limitPrice}9`,
    });
    if (!buy.accepted) throw new Error(buy.message);
    expect(buy.submitted).toEqual({ baseSize: "0.00123456", limitPrice });
    expect(await exchange.getOrder(buy.orderId)).toMatchObject({
      status: "OPEN",
      type: "LIMIT",
      filledSize: "0",
    });
    expect(new Decimal((await exchange.getBalances()).USD!.hold).gt(0)).toBe(true);
    fake.state.setPrice("BTC-USD", new Decimal(limitPrice).minus(1).toString());
    const filled = await exchange.getOrder(buy.orderId);
    expect(filled).toMatchObject({
      status: "FILLED",
      filledSize: "0.00123456",
      averageFilledPrice: limitPrice,
    });
    expect((await exchange.getBalances()).USD!.hold).toBe("0");
    expect((await exchange.listFills(buy.orderId))[0]!.liquidity).toBe("MAKER");

    const sell = await exchange.placeOrder({
      clientOrderId: "rec-14",
      productId: "BTC-USD",
      side: "SELL",
      type: "LIMIT",
      baseSize: "0.001",
      limitPrice: "999999.99",
    });
    if (!sell.accepted) throw new Error(sell.message);
    expect((await exchange.getBalances()).BTC!.hold).toBe("0.001");
    expect(await exchange.cancelOrder(sell.orderId)).toMatchObject({
      cancelled: true,
      order: { status: "CANCELLED", type: "LIMIT", baseSize: "0.00100000", limitPrice: "999999.99" },
    });
    expect(await exchange.getOrder(sell.orderId)).toMatchObject({ status: "CANCELLED" });
    expect((await exchange.getBalances()).BTC!.hold).toBe("0");
    expect(await exchange.cancelOrder(sell.orderId)).toMatchObject({
      cancelled: false,
      reason: "UNKNOWN_CANCEL_ORDER",
      order: { status: "CANCELLED" },
    });
  });

  it("lists orders and fills across pages", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await exchange.placeOrder({
        clientOrderId: `rec-page-${i}`,
        productId: "BTC-USD",
        side: "BUY",
        type: "MARKET",
        quoteSize: "10",
      });
      expect(r.accepted).toBe(true);
    }
    const orders = await client.listOrders({ productIds: ["BTC-USD"], pageSize: 2 });
    expect(orders.map((o) => o.client_order_id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `rec-page-${i}`));
    expect((await client.listFills({ productIds: ["BTC-USD"], pageSize: 2 })).length).toBe(5);
  });
});
