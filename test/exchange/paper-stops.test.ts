/**
 * Resting STOP_LIMIT orders on the paper venue: the base on hold, the trigger on the candle's low
 * (high for a BUY), the fill at the stop or at the open after a gap, never beyond the limit, the
 * cancel, and the same never-twice guarantees as every other paper order.
 */
import { randomUUID } from "node:crypto";
import { Decimal } from "decimal.js";
import { beforeEach, describe, expect, it } from "vitest";
import { catalogueProductRules } from "#coinbase/product-rules.js";
import type { PlaceOrderRequest } from "#exchange/exchange.js";
import { PaperExchange, type PriceQuote, type PriceSource } from "#exchange/paper/index.js";
import { type BooksLocation, PAPER_BOOKS } from "./paper-books-backends.js";

/** One candle per product, as the candle price source quotes it (no spread: bid = ask = close). */
class CandleTape implements PriceSource {
  private readonly quotes = new Map<string, PriceQuote>();
  candle(productId: string, c: { open: number; high: number; low: number; close: number; closesAt: string }) {
    this.quotes.set(productId, {
      bid: c.close,
      ask: c.close,
      last: c.close,
      open: c.open,
      high: c.high,
      low: c.low,
      time: c.closesAt,
    });
  }
  /** a bare price without a candle range, as a source without candles would quote it */
  price(productId: string, last: number, time: string) {
    this.quotes.set(productId, { bid: last, ask: last, last, time });
  }
  async quote(productId: string): Promise<PriceQuote> {
    const q = this.quotes.get(productId);
    if (!q) throw new Error(`test set no price for ${productId}`);
    return q;
  }
}

const SETTINGS = {
  startingCashUsd: "10000",
  slippageBps: 0,
  impactCoefficient: 0,
  takerFeeBps: 60,
  makerFeeBps: 40,
};

let tape: CandleTape;
let now: Date;

/** where the books of the backend under test live (fresh per test) */
let location: BooksLocation;

function newPaper() {
  return new PaperExchange({
    ...location,
    prices: tape,
    rules: catalogueProductRules(),
    settings: SETTINGS,
    now: () => now,
    newId: randomUUID,
  });
}

const stopSell = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: "pos-1-STOP_LOSS",
  productId: "BTC-USD",
  side: "SELL",
  type: "STOP_LIMIT",
  baseSize: "0.01",
  stopPrice: "49000",
  limitPrice: "48500",
  ...overrides,
});

/** The BTC-USD candle closing at `hour`:00 on 2024-07-01, seen 30 s later (the clock moves there). */
function candleClosesAt(hour: number, prices: { open: number; high: number; low: number; close: number }) {
  const at = `2024-07-01T${String(hour).padStart(2, "0")}:00`;
  now = new Date(`${at}:30.000Z`);
  tape.candle("BTC-USD", { ...prices, closesAt: `${at}:00.000Z` });
}

async function balances(paper: PaperExchange) {
  const b = await paper.getBalances();
  return (currency: string) => b[currency] ?? { available: "0", hold: "0" };
}

/** Buys BTC at 50000 (no slippage, 0.6% fee) and returns the base bought. */
async function holdSomeBtc(paper: PaperExchange): Promise<string> {
  const bought = await paper.placeOrder({
    clientOrderId: "entry-1",
    productId: "BTC-USD",
    side: "BUY",
    type: "MARKET",
    quoteSize: "1000",
  });
  if (!bought.accepted) throw new Error(bought.message);
  return (await paper.getOrder(bought.orderId))!.filledSize;
}

beforeEach(async () => {
  tape = new CandleTape();
  // the candle before the stop is placed dipped to 48000: that low predates the stop
  candleClosesAt(0, { open: 49500, high: 50200, low: 48000, close: 50000 });
});

describe.each(PAPER_BOOKS)("paper stops on $name books", (backend) => {
  beforeEach(async () => {
    location = await backend.fresh("paper-stops", SETTINGS.startingCashUsd);
  });

  describe("placing a resting stop", () => {
    it("rests OPEN with the base on hold, so the same base cannot be sold again", async () => {
      const paper = newPaper();
      const btc = await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell({ stopPrice: "49000.004", limitPrice: "48500.001" }));
      expect(placed).toMatchObject({
        accepted: true,
        submitted: { baseSize: "0.01000000", stopPrice: "49000.01", limitPrice: "48500.01" },
      });
      if (!placed.accepted) return;
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "OPEN",
        type: "STOP_LIMIT",
        side: "SELL",
        baseSize: "0.01000000",
        stopPrice: "49000.01",
        limitPrice: "48500.01",
        triggered: false,
        filledSize: "0",
      });
      const bal = await balances(paper);
      expect(bal("BTC")).toEqual({ available: new Decimal(btc).minus("0.01").toFixed(), hold: "0.01" });
      const sellAll = await paper.placeOrder({
        clientOrderId: "manual-exit",
        productId: "BTC-USD",
        side: "SELL",
        type: "MARKET",
        baseSize: btc,
      });
      expect(sellAll).toMatchObject({ accepted: false, reason: "INSUFFICIENT_FUND" });
      // a second stop on the same base is refused too
      expect(
        await paper.placeOrder(stopSell({ clientOrderId: "pos-1-STOP_LOSS-b", baseSize: btc })),
      ).toMatchObject({
        accepted: false,
        reason: "INSUFFICIENT_FUND",
      });
    });

    it("refuses a stop the price already reached, a limit above the stop, and base not held", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      expect(await paper.placeOrder(stopSell({ stopPrice: "50000", limitPrice: "49900" }))).toEqual({
        accepted: false,
        reason: "STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
        message:
          "pos-1-STOP_LOSS: STOP_LIMIT SELL BTC-USD stop price 50000.00 is not below the last trade price 50000: " +
          "it would trigger at once. Sell at market, or set the stop below the price.",
      });
      expect(await paper.placeOrder(stopSell({ limitPrice: "49000.01" }))).toMatchObject({
        accepted: false,
        reason: "STOP_PRICE_BELOW_LIMIT_PRICE",
      });
      expect(await paper.placeOrder(stopSell({ baseSize: "1" }))).toMatchObject({
        accepted: false,
        reason: "INSUFFICIENT_FUND",
        message: expect.stringMatching(/SELL BTC-USD needs 1 BTC, available 0.0198/),
      });
      // every refusal freed its clientOrderId and held nothing
      expect((await balances(paper))("BTC").hold).toBe("0");
      expect(await paper.placeOrder(stopSell())).toMatchObject({ accepted: true });
    });
  });

  describe("triggering on the candle", () => {
    it("ignores a low from before the stop was placed, then fills at the stop when a later candle's low reaches it", async () => {
      const paper = newPaper();
      const btc = await holdSomeBtc(paper);
      const usdBefore = (await balances(paper))("USD").available;
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [],
        stillOpen: [placed.orderId],
      });

      candleClosesAt(1, { open: 50000, high: 50100, low: 49000.01, close: 49500 });
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [],
        stillOpen: [placed.orderId],
      });

      candleClosesAt(2, { open: 49500, high: 49600, low: 48900, close: 49200 });
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [placed.orderId],
        stillOpen: [],
      });
      // 0.01 x 49000 = 490; taker fee 0.6% = 2.94
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "FILLED",
        triggered: true,
        averageFilledPrice: "49000",
        filledSize: "0.01",
        filledValue: "490",
        totalFees: "2.94",
      });
      expect(await paper.listFills(placed.orderId)).toEqual([
        {
          tradeId: `${placed.orderId}-1`,
          orderId: placed.orderId,
          clientOrderId: "pos-1-STOP_LOSS",
          symbol: "BTC-USD",
          side: "SELL",
          price: "49000",
          size: "0.01",
          commission: "2.94",
          liquidity: "TAKER",
          tradeTime: "2024-07-01T02:00:30.000Z",
        },
      ]);
      const bal = await balances(paper);
      expect(bal("BTC")).toEqual({ available: new Decimal(btc).minus("0.01").toFixed(), hold: "0" });
      expect(bal("USD").available).toBe(new Decimal(usdBefore).plus("487.06").toFixed());
      // settling again moves nothing
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({ filled: [], stillOpen: [] });
      expect((await balances(paper))("USD").available).toBe(bal("USD").available);
    });

    it("after a gap below the stop it fills at the open, floored onto the price grid", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      candleClosesAt(1, { open: 48700.567, high: 48800, low: 48600, close: 48650 });
      await paper.settleRestingOrders("BTC-USD");
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "FILLED",
        averageFilledPrice: "48700.56",
        totalFees: "2.9220336", // 487.0056 x 0.006
      });
    });

    it("a gap below the limit leaves it OPEN and triggered with the base held; it fills at the limit once the bid is back", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      candleClosesAt(1, { open: 47000, high: 48000, low: 46000, close: 47500 });
      expect(await paper.settleRestingOrders("BTC-USD")).toMatchObject({
        filled: [],
        stillOpen: [placed.orderId],
      });
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "OPEN",
        triggered: true,
        filledSize: "0",
      });
      expect((await balances(paper))("BTC").hold).toBe("0.01");

      // triggered, it is a limit order at 48500: a later low under the stop no longer matters, the bid does
      candleClosesAt(2, { open: 47500, high: 48499, low: 47000, close: 48400 });
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([]);
      candleClosesAt(3, { open: 48400, high: 48700, low: 48300, close: 48600 });
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([placed.orderId]);
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "FILLED",
        triggered: true,
        averageFilledPrice: "48500",
        totalFees: "1.94", // maker 0.4% of 485
      });
      expect((await paper.listFills(placed.orderId))[0]).toMatchObject({
        liquidity: "MAKER",
        price: "48500",
      });
      expect((await balances(paper))("BTC").hold).toBe("0");
    });

    it("a gap below the limit that recovers within the same candle fills at the limit in the same pass", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      candleClosesAt(1, { open: 48000, high: 48900, low: 47900, close: 48800 });
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([placed.orderId]);
      expect(await paper.getOrder(placed.orderId)).toMatchObject({
        status: "FILLED",
        averageFilledPrice: "48500",
      });
    });

    it("without a candle range it looks at the last price alone", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      now = new Date("2024-07-01T01:00:30.000Z");
      tape.price("BTC-USD", 49000.01, "2024-07-01T01:00:00.000Z");
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([]);
      tape.price("BTC-USD", 48800.004, "2024-07-01T01:00:00.000Z");
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([placed.orderId]);
      expect((await paper.getOrder(placed.orderId))?.averageFilledPrice).toBe("48800");
    });

    it("a BUY stop triggers on the high, holds quote for the taker fee and returns what the fill did not use", async () => {
      const paper = newPaper();
      const placed = await paper.placeOrder({
        clientOrderId: "breakout-1",
        productId: "BTC-USD",
        side: "BUY",
        type: "STOP_LIMIT",
        baseSize: "0.01",
        stopPrice: "51000",
        limitPrice: "51500",
      });
      if (!placed.accepted) throw new Error(placed.message);
      // hold: 0.01 x 51500 x 1.006
      expect((await balances(paper))("USD")).toEqual({ available: "9481.91", hold: "518.09" });
      candleClosesAt(1, { open: 50000, high: 51200, low: 49900, close: 51100 });
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([placed.orderId]);
      // 0.01 x 51000 = 510 + 3.06 fee
      expect((await balances(paper))("USD")).toEqual({ available: "9486.94", hold: "0" });
      expect((await balances(paper))("BTC")).toEqual({ available: "0.01", hold: "0" });
    });
  });

  describe("cancelling a stop", () => {
    it("releases the hold and reports the order; the base can then be sold at market", async () => {
      const paper = newPaper();
      const btc = await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell({ baseSize: btc }));
      if (!placed.accepted) throw new Error(placed.message);
      const cancelled = await paper.cancelOrder(placed.orderId);
      expect(cancelled).toMatchObject({
        cancelled: true,
        order: { status: "CANCELLED", type: "STOP_LIMIT", triggered: false, filledSize: "0" },
      });
      expect((await balances(paper))("BTC")).toEqual({ available: btc, hold: "0" });
      // a crash through the old stop does nothing now
      candleClosesAt(1, { open: 45000, high: 45000, low: 40000, close: 41000 });
      expect((await paper.settleRestingOrders("BTC-USD")).filled).toEqual([]);
      const exit = await paper.placeOrder({
        clientOrderId: "pos-1-TAKE_PROFIT_1",
        productId: "BTC-USD",
        side: "SELL",
        type: "MARKET",
        baseSize: btc,
      });
      expect(exit.accepted).toBe(true);
    });

    it("cancelling a stop that already filled says so and carries the fill", async () => {
      const paper = newPaper();
      await holdSomeBtc(paper);
      const placed = await paper.placeOrder(stopSell());
      if (!placed.accepted) throw new Error(placed.message);
      candleClosesAt(1, { open: 49500, high: 49600, low: 48900, close: 49200 });
      await paper.settleRestingOrders("BTC-USD");
      expect(await paper.cancelOrder(placed.orderId)).toMatchObject({
        cancelled: false,
        reason: "UNKNOWN_CANCEL_ORDER",
        order: { status: "FILLED", filledSize: "0.01", averageFilledPrice: "49000" },
      });
    });
  });

  describe("never twice", () => {
    it("placing one clientOrderId twice, even after the price fell under the stop, is one order and one hold", async () => {
      const paper = newPaper();
      const btc = await holdSomeBtc(paper);
      const first = await paper.placeOrder(stopSell());
      tape.price("BTC-USD", 40000, "2024-07-01T00:00:00.000Z"); // a replay must not re-check or re-price
      const second = await newPaper().placeOrder(stopSell());
      expect(first.accepted && second.accepted).toBe(true);
      expect(second).toEqual(first);
      expect((await balances(paper))("BTC")).toEqual({
        available: new Decimal(btc).minus("0.01").toFixed(),
        hold: "0.01",
      });
    });

    it("5 concurrent placements of one stop make one order; 3 concurrent settlements fill it once", async () => {
      const paper = newPaper();
      const btc = await holdSomeBtc(paper);
      const results = await Promise.all(Array.from({ length: 5 }, () => newPaper().placeOrder(stopSell())));
      const ids = new Set(results.map((r) => (r.accepted ? r.orderId : `refused ${r.reason}`)));
      expect(ids.size).toBe(1);
      const [orderId] = [...ids];
      expect((await balances(paper))("BTC").hold).toBe("0.01");

      candleClosesAt(1, { open: 49500, high: 49600, low: 48000, close: 48200 });
      const reports = await Promise.all(
        Array.from({ length: 3 }, () => newPaper().settleRestingOrders("BTC-USD")),
      );
      expect(reports.some((r) => r.filled.includes(orderId!))).toBe(true);
      expect(await paper.listFills(orderId!)).toHaveLength(1);
      const bal = await balances(paper);
      expect(bal("BTC")).toEqual({ available: new Decimal(btc).minus("0.01").toFixed(), hold: "0" });
    });
  });
});
