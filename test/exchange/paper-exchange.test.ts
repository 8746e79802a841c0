import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogueProductRules } from "#coinbase/product-rules.js";
import { Candle, Fill } from "#domain/schemas.js";
import type { Exchange, PlaceOrderRequest } from "#exchange/exchange.js";
import { candlePriceSource, PaperExchange, type PriceQuote } from "#exchange/paper/index.js";
import { createDocumentClient, DynamoCandleStore } from "#store/dynamo/index.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { type BooksLocation, PAPER_BOOKS } from "./paper-books-backends.js";

/** Quotes the test moves by hand, like a market. */
class MovablePrices {
  private readonly quotes = new Map<string, PriceQuote>();
  set(productId: string, bid: number, ask: number, candleVolumeBase?: number) {
    this.quotes.set(productId, {
      bid,
      ask,
      last: (bid + ask) / 2,
      ...(candleVolumeBase !== undefined ? { candleVolumeBase } : {}),
      time: "2024-07-01T00:00:00.000Z",
    });
  }
  async quote(productId: string): Promise<PriceQuote> {
    const q = this.quotes.get(productId);
    if (!q) throw new Error(`test set no price for ${productId}`);
    return q;
  }
}

let db: DynamoDBDocumentClient;
let prices: MovablePrices;
let paper: PaperExchange;

const SETTINGS = {
  startingCashUsd: "10000",
  slippageBps: 10,
  impactCoefficient: 0,
  takerFeeBps: 60,
  makerFeeBps: 40,
};

/** where the books of the backend under test live (fresh per test) */
let location: BooksLocation;

function newPaper(at: BooksLocation = location) {
  return new PaperExchange({
    ...at,
    prices,
    rules: catalogueProductRules(),
    settings: SETTINGS,
    now: () => new Date("2024-07-01T00:00:30.000Z"),
    newId: randomUUID,
  });
}

async function balancesOf(exchange: Exchange) {
  const b = await exchange.getBalances();
  return (currency: string) => b[currency] ?? { available: "0", hold: "0" };
}

beforeAll(async () => {
  await isolatedCloud("paper");
  db = createDocumentClient();
});

beforeEach(async () => {
  prices = new MovablePrices();
  prices.set("BTC-USD", 49990, 50000);
  prices.set("SHIB-USD", 0.00001725, 0.00001726);
});

const buy = (clientOrderId: string, quoteSize: string, productId = "BTC-USD"): PlaceOrderRequest => ({
  clientOrderId,
  productId,
  side: "BUY",
  type: "MARKET",
  quoteSize,
});

describe.each(PAPER_BOOKS)("paper exchange on $name books", (backend) => {
  beforeEach(async () => {
    // fresh books per test: the paper books live under fixed keys
    location = await backend.fresh("paper", SETTINGS.startingCashUsd);
    paper = newPaper();
  });

  describe("market orders", () => {
    it("starts with the configured cash, seeded once", async () => {
      expect(await paper.getBalances()).toEqual({ USD: { available: "10000", hold: "0" } });
      expect(await newPaper().getBalances()).toEqual({ USD: { available: "10000", hold: "0" } });
    });

    it("BUY by quote: fee-inclusive spend, base floored, balances and fills booked (hand-computed)", async () => {
      const result = await paper.placeOrder(buy("rec-1", "100.005"));
      expect(result).toMatchObject({ accepted: true, submitted: { quoteSize: "100.00" } });
      if (!result.accepted) return;
      // ask 50000 + 10 bps = 50050.00; base = floor(100 / 1.006 / 50050, 1e-8)
      const order = await paper.getOrder(result.orderId);
      expect(order).toMatchObject({
        status: "FILLED",
        venueStatus: "FILLED",
        filledSize: "0.00198608",
        averageFilledPrice: "50050",
        filledValue: "99.403304",
        totalFees: "0.596419824",
        completionPercentage: "100",
        clientOrderId: "rec-1",
      });
      const fills = await paper.listFills(result.orderId);
      expect(fills).toHaveLength(1);
      expect(Fill.parse(fills[0])).toMatchObject({
        side: "BUY",
        price: "50050",
        size: "0.00198608",
        commission: "0.596419824",
        liquidity: "TAKER",
      });
      const bal = await balancesOf(paper);
      expect(bal("USD")).toEqual({ available: "9900.000276176", hold: "0" }); // 10000 - 99.999723824
      expect(bal("BTC")).toEqual({ available: "0.00198608", hold: "0" });
    });

    it("SELL by base: receives value minus fee at the bid less slippage", async () => {
      await paper.placeOrder(buy("rec-1", "100"));
      prices.set("BTC-USD", 60000, 60010);
      const sell = await paper.placeOrder({
        clientOrderId: "rec-1-exit",
        productId: "BTC-USD",
        side: "SELL",
        type: "MARKET",
        baseSize: "0.00198608",
      });
      expect(sell.accepted).toBe(true);
      if (!sell.accepted) return;
      // 60000 x 0.999 = 59940; value 0.00198608 x 59940 = 119.0456352; fee 0.6% = 0.7142738112
      expect(await paper.getOrder(sell.orderId)).toMatchObject({
        averageFilledPrice: "59940",
        filledValue: "119.0456352",
        totalFees: "0.7142738112",
      });
      const bal = await balancesOf(paper);
      expect(bal("BTC").available).toBe("0");
      expect(bal("USD").available).toBe("10018.3316375648"); // 9900.000276176 + 118.3313613888
    });

    it("refuses what the live venue refuses, with its reasons", async () => {
      const cases: [PlaceOrderRequest, string][] = [
        [buy("r-small", "0.99"), "QUOTE_SIZE_TOO_SMALL"],
        [buy("r-zero", "0.001"), "SIZE_NOT_POSITIVE"],
        [{ ...buy("r-both", "10"), baseSize: "0.1" }, "INVALID_ORDER_REQUEST"],
        [buy("bad id!", "10"), "INVALID_ORDER_REQUEST"],
        [
          {
            clientOrderId: "r-big",
            productId: "BTC-USD",
            side: "BUY",
            type: "LIMIT",
            baseSize: "3401",
            limitPrice: "1",
          },
          "BASE_SIZE_TOO_LARGE",
        ],
        [
          { clientOrderId: "r-shib", productId: "SHIB-USD", side: "SELL", type: "MARKET", baseSize: "0.9" },
          "SIZE_NOT_POSITIVE",
        ],
        [buy("r-rich", "10000.01"), "INSUFFICIENT_FUND"],
        [
          { clientOrderId: "r-sell", productId: "BTC-USD", side: "SELL", type: "MARKET", baseSize: "0.1" },
          "INSUFFICIENT_FUND",
        ],
      ];
      for (const [request, reason] of cases) {
        const result = await paper.placeOrder(request);
        expect(result, request.clientOrderId).toMatchObject({ accepted: false, reason });
      }
      const rich = await paper.placeOrder(buy("r-rich", "10000.01"));
      expect(rich).toEqual({
        accepted: false,
        reason: "INSUFFICIENT_FUND",
        message: "r-rich: BUY BTC-USD needs 10000.01 USD, available 10000",
      });
      await expect(paper.placeOrder(buy("r-unknown", "10", "NOPE-USD"))).rejects.toMatchObject({
        name: "UnknownProductError",
        productId: "NOPE-USD",
      });
      expect(await paper.getBalances()).toEqual({ USD: { available: "10000", hold: "0" } });
    });

    it("a refused order frees its clientOrderId, like a refused order on Coinbase", async () => {
      expect(await paper.placeOrder(buy("rec-9", "20000"))).toMatchObject({ reason: "INSUFFICIENT_FUND" });
      expect(await paper.placeOrder(buy("rec-9", "20"))).toMatchObject({ accepted: true });
    });
  });

  describe("idempotency of clientOrderId", () => {
    it("placing twice returns the original order and moves balances once", async () => {
      const first = await paper.placeOrder(buy("rec-2", "250"));
      prices.set("BTC-USD", 10, 11); // a replay must not re-price
      const second = await newPaper().placeOrder(buy("rec-2", "250"));
      expect(first.accepted && second.accepted).toBe(true);
      if (!first.accepted || !second.accepted) return;
      expect(second.orderId).toBe(first.orderId);
      expect(await paper.listFills(first.orderId)).toHaveLength(1);
      const order = await paper.getOrder(first.orderId);
      const bal = await balancesOf(paper);
      expect(bal("BTC").available).toBe(order!.filledSize);
      expect(new Decimal(10000).minus(bal("USD").available).toFixed()).toBe(
        new Decimal(order!.filledValue).plus(order!.totalFees).toFixed(),
      );
    });

    it("20 concurrent placements of one clientOrderId make one order", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => newPaper().placeOrder(buy("rec-3", "1000"))),
      );
      const ids = new Set(results.map((r) => (r.accepted ? r.orderId : `refused ${r.reason}`)));
      expect(ids.size).toBe(1);
      const [orderId] = [...ids];
      expect(await paper.listFills(orderId!)).toHaveLength(1);
      const order = await paper.getOrder(orderId!);
      expect(order?.status).toBe("FILLED");
      const bal = await balancesOf(paper);
      expect(bal("BTC").available).toBe(order!.filledSize);
      expect(new Decimal(bal("USD").available).toFixed()).toBe(
        new Decimal(10000).minus(order!.filledValue).minus(order!.totalFees).toFixed(),
      );
    });

    it("20 concurrent different orders never overspend: exactly the 10 that fit are filled", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => newPaper().placeOrder(buy(`rec-many-${i}`, "1000"))),
      );
      expect(results.filter((r) => r.accepted)).toHaveLength(10);
      expect(results.filter((r) => !r.accepted && r.reason === "INSUFFICIENT_FUND")).toHaveLength(10);
      const usd = new Decimal((await balancesOf(paper))("USD").available);
      expect(usd.gte(0) && usd.lt(1000)).toBe(true);
    });
  });

  describe("resting limit orders", () => {
    const limitBuy: PlaceOrderRequest = {
      clientOrderId: "rec-4",
      productId: "BTC-USD",
      side: "BUY",
      type: "LIMIT",
      baseSize: "0.01",
      limitPrice: "45000.004",
    };

    it("holds funds, fills at the limit with the maker fee once the ask crosses, then a SELL the same way", async () => {
      const placed = await paper.placeOrder(limitBuy);
      expect(placed).toMatchObject({
        accepted: true,
        submitted: { baseSize: "0.01000000", limitPrice: "45000.00" },
      });
      if (!placed.accepted) return;
      // hold = 0.01 x 45000 x 1.004
      let bal = await balancesOf(paper);
      expect(bal("USD")).toEqual({ available: "9548.2", hold: "451.8" });
      expect((await paper.getOrder(placed.orderId))?.status).toBe("OPEN");

      prices.set("BTC-USD", 45400, 45500);
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [],
        stillOpen: [placed.orderId],
      });

      prices.set("BTC-USD", 44980, 44990);
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [placed.orderId],
        stillOpen: [],
      });
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "FILLED",
        averageFilledPrice: "45000",
        filledValue: "450",
        totalFees: "1.8",
      });
      expect((await paper.listFills(placed.orderId))[0]).toMatchObject({
        liquidity: "MAKER",
        price: "45000",
      });
      bal = await balancesOf(paper);
      expect(bal("USD")).toEqual({ available: "9548.2", hold: "0" });
      expect(bal("BTC")).toEqual({ available: "0.01", hold: "0" });
      // settling again changes nothing
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([]);

      const sell = await paper.placeOrder({
        clientOrderId: "rec-4-exit",
        productId: "BTC-USD",
        side: "SELL",
        type: "LIMIT",
        baseSize: "0.01",
        limitPrice: "46000",
      });
      expect(sell.accepted).toBe(true);
      expect((await balancesOf(paper))("BTC")).toEqual({ available: "0", hold: "0.01" });
      prices.set("BTC-USD", 46001, 46010);
      await paper.settleRestingOrders("BTC-USD");
      bal = await balancesOf(paper);
      expect(bal("BTC")).toEqual({ available: "0", hold: "0" });
      expect(bal("USD").available).toBe("10006.36"); // 9548.2 + 460 - 1.84
    });

    it("a marketable limit fills at placement", async () => {
      const placed = await paper.placeOrder({ ...limitBuy, limitPrice: "50001" });
      expect(placed.accepted).toBe(true);
      if (placed.accepted) expect((await paper.getOrder(placed.orderId))?.status).toBe("FILLED");
    });

    it("cancel releases the hold; a second cancel and cancelling a filled order fail with the reason", async () => {
      const placed = await paper.placeOrder(limitBuy);
      if (!placed.accepted) throw new Error("expected the limit order to rest");
      expect(await paper.cancelOrder(placed.orderId)).toEqual({
        cancelled: true,
        order: await paper.getOrder(placed.orderId),
      });
      expect((await paper.getOrder(placed.orderId))?.status).toBe("CANCELLED");
      expect(await paper.getBalances()).toEqual({ USD: { available: "10000", hold: "0" } });
      expect(await paper.cancelOrder(placed.orderId)).toMatchObject({
        cancelled: false,
        reason: "UNKNOWN_CANCEL_ORDER",
        order: { status: "CANCELLED" },
      });
      prices.set("BTC-USD", 40000, 40001);
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([]);

      const market = await paper.placeOrder(buy("rec-5", "50"));
      if (!market.accepted) throw new Error("expected the market order to fill");
      expect(await paper.cancelOrder(market.orderId)).toMatchObject({
        cancelled: false,
        reason: "UNKNOWN_CANCEL_ORDER",
        order: { status: "FILLED" },
      });
      expect(await paper.cancelOrder("no-such-order")).toEqual({
        cancelled: false,
        reason: "UNKNOWN_CANCEL_ORDER",
      });
      expect(await paper.getOrder("no-such-order")).toBeUndefined();
    });

    it("cancel and settlement racing on one order: exactly one wins, funds moved once", async () => {
      const placed = await paper.placeOrder(limitBuy);
      if (!placed.accepted) throw new Error("expected the limit order to rest");
      prices.set("BTC-USD", 44000, 44001);
      const [cancel] = await Promise.all([
        newPaper().cancelOrder(placed.orderId),
        newPaper().settleRestingOrders("BTC-USD"),
        newPaper().settleRestingOrders("BTC-USD"),
      ]);
      const order = await paper.getOrder(placed.orderId);
      const bal = await balancesOf(paper);
      expect(bal("USD").hold).toBe("0");
      if (cancel.cancelled) {
        expect(order?.status).toBe("CANCELLED");
        expect(bal("USD").available).toBe("10000");
      } else {
        expect(order?.status).toBe("FILLED");
        expect(bal("USD").available).toBe("9548.2");
        expect(bal("BTC").available).toBe("0.01");
      }
    });
  });

  describe("ledger properties", () => {
    type Step =
      | { kind: "buy"; quote: string }
      | { kind: "sell"; fraction: number }
      | { kind: "limitBuy"; base: string; offsetPct: number }
      | { kind: "limitSell"; fraction: number; offsetPct: number }
      | { kind: "move"; price: number }
      | { kind: "cancelLast" };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant("buy" as const), quote: fc.integer({ min: 1, max: 6000 }).map(String) }),
      fc.record({
        kind: fc.constant("sell" as const),
        fraction: fc.double({ min: 0.05, max: 1.2, noNaN: true }),
      }),
      fc.record({
        kind: fc.constant("limitBuy" as const),
        base: fc.integer({ min: 1, max: 9000 }).map((n) => (n / 100_000).toFixed(5)),
        offsetPct: fc.integer({ min: -3, max: 3 }),
      }),
      fc.record({
        kind: fc.constant("limitSell" as const),
        fraction: fc.double({ min: 0.05, max: 1.2, noNaN: true }),
        offsetPct: fc.integer({ min: -3, max: 3 }),
      }),
      fc.record({ kind: fc.constant("move" as const), price: fc.integer({ min: 40000, max: 60000 }) }),
      fc.record({ kind: fc.constant("cancelLast" as const) }),
    );

    it("balances never go negative and every currency equals start + fills (quote spent = value + fee)", async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 9 }), async (steps) => {
          run++;
          const exchange = newPaper(await backend.fresh(`paper-prop-${run}`, SETTINGS.startingCashUsd));
          let mid = 50000;
          prices.set("BTC-USD", mid - 5, mid + 5, 50);
          const orderIds: string[] = [];
          let resting: string | undefined;
          for (const [i, s] of steps.entries()) {
            const id = `p${run}-${i}`;
            const btc = new Decimal((await balancesOf(exchange))("BTC").available);
            let result: Awaited<ReturnType<Exchange["placeOrder"]>> | undefined;
            if (s.kind === "buy") result = await exchange.placeOrder(buy(id, s.quote));
            else if (s.kind === "sell")
              result = await exchange.placeOrder({
                clientOrderId: id,
                productId: "BTC-USD",
                side: "SELL",
                type: "MARKET",
                baseSize: btc.mul(s.fraction).toFixed(8, Decimal.ROUND_DOWN),
              });
            else if (s.kind === "limitBuy" || s.kind === "limitSell")
              result = await exchange.placeOrder({
                clientOrderId: id,
                productId: "BTC-USD",
                side: s.kind === "limitBuy" ? "BUY" : "SELL",
                type: "LIMIT",
                baseSize: s.kind === "limitBuy" ? s.base : btc.mul(s.fraction).toFixed(8, Decimal.ROUND_DOWN),
                limitPrice: (mid * (1 + s.offsetPct / 100)).toFixed(2),
              });
            else if (s.kind === "move") {
              mid = s.price;
              prices.set("BTC-USD", mid - 5, mid + 5, 50);
              await exchange.settleRestingOrders("BTC-USD");
            } else if (resting) await exchange.cancelOrder(resting);
            if (result?.accepted) {
              orderIds.push(result.orderId);
              if (s.kind === "limitBuy" || s.kind === "limitSell") resting = result.orderId;
            }
            const bal = await exchange.getBalances();
            for (const b of Object.values(bal)) {
              expect(new Decimal(b.available).gte(0)).toBe(true);
              expect(new Decimal(b.hold).gte(0)).toBe(true);
            }
          }
          // ledger: what each currency holds in total is the start plus the fills, nothing else
          let usd = new Decimal(10000);
          let btc = new Decimal(0);
          const holds = { USD: new Decimal(0), BTC: new Decimal(0) };
          for (const orderId of orderIds) {
            const order = (await exchange.getOrder(orderId))!;
            const fills = await exchange.listFills(orderId);
            if (order.status === "FILLED") {
              expect(fills).toHaveLength(1);
              const f = fills[0]!;
              const value = new Decimal(f.price).mul(f.size);
              expect(value.eq(order.filledValue)).toBe(true);
              expect(new Decimal(f.commission).eq(order.totalFees)).toBe(true);
              if (f.side === "BUY") {
                usd = usd.minus(value).minus(f.commission);
                btc = btc.plus(f.size);
              } else {
                usd = usd.plus(value).minus(f.commission);
                btc = btc.minus(f.size);
              }
            } else expect(fills).toHaveLength(0);
          }
          const bal = await balancesOf(exchange);
          for (const c of ["USD", "BTC"] as const) holds[c] = new Decimal(bal(c).hold);
          expect(new Decimal(bal("USD").available).plus(holds.USD).eq(usd)).toBe(true);
          expect(new Decimal(bal("BTC").available).plus(holds.BTC).eq(btc)).toBe(true);
        }),
        { numRuns: 12 },
      );
    });
  });
});

describe("the candle price source", () => {
  it("quotes close -/+ half the spread from the newest stored candle", async () => {
    await isolatedCloud("paper-candles");
    const store = new DynamoCandleStore(db, process.env.CANDLES_TABLE!);
    const candle = (start: number, close: number) =>
      Candle.parse({
        symbol: "ETH-USD",
        granularity: "ONE_HOUR",
        start,
        open: close,
        high: close + 1,
        low: close - 1,
        close,
        volume: 1234.5,
        source: "replay",
      });
    await store.putCandles([candle(1719784800, 3400), candle(1719788400, 3500)]);
    const source = candlePriceSource(store, "ONE_HOUR", 20);
    const quote = await source.quote("ETH-USD");
    expect(quote.last).toBe(3500);
    expect(quote.bid).toBeCloseTo(3496.5, 9); // 3500 x (1 - 0.001)
    expect(quote.ask).toBeCloseTo(3503.5, 9);
    expect(quote.candleVolumeBase).toBe(1234.5);
    // the candle's range, for resting stops
    expect(quote).toMatchObject({ open: 3500, high: 3501, low: 3499 });
    expect(quote.time).toBe("2024-07-01T00:00:00.000Z");
    await expect(source.quote("SOL-USD")).rejects.toThrow(/no ONE_HOUR candle stored for SOL-USD/);
  });
});
