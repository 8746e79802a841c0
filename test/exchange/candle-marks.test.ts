/**
 * How the portfolio marks a held asset: the last stored close, else the venue's best bid, else
 * "unpriced" (MarkUnavailableError), never a made-up price; a store failure is not "unpriced".
 */
import { describe, expect, it } from "vitest";
import type { Candle } from "#domain/schemas.js";
import type { BestBidAsk } from "#exchange/exchange.js";
import { candleMarks } from "#runtime/venue.js";
import { MarkUnavailableError } from "#steps/reconcile-portfolio.js";
import { candle } from "#test/store/fixtures.js";

const stored: Record<string, Candle[]> = { "BTC-USD": [candle("BTC-USD", 1_719_784_800, 64_000)] };
const candles = {
  latestCandles: async (symbol: string) => stored[symbol] ?? [],
};

function venue(books: Record<string, BestBidAsk | Error>) {
  const asked: string[] = [];
  return {
    asked,
    getBestBidAsk: async (productId: string) => {
      asked.push(productId);
      const book = books[productId];
      if (book === undefined) throw new Error(`Coinbase has no best bid/ask for ${productId}`);
      if (book instanceof Error) throw book;
      return book;
    },
  };
}

const time = "2024-06-30T12:00:00.000Z";

async function unavailable(promise: Promise<number>): Promise<MarkUnavailableError> {
  const error = await promise.then(
    (price) => new Error(`expected no mark, got ${price}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MarkUnavailableError);
  return error as MarkUnavailableError;
}

describe("candleMarks", () => {
  it("uses the last stored close and does not ask the venue", async () => {
    const prices = venue({});
    expect(await candleMarks(candles, "ONE_HOUR", prices).markPrice("BTC-USD")).toBe(64_000);
    expect(prices.asked).toEqual([]);
  });

  it("marks an asset without candles (a stablecoin, dust) at the venue's best bid", async () => {
    const prices = venue({ "USDT-USD": { bid: "0.9998", ask: "1.0002", time } });
    expect(await candleMarks(candles, "ONE_HOUR", prices).markPrice("USDT-USD")).toBe(0.9998);
  });

  it("a product the venue does not list, or a failed lookup, is unavailable with the reason", async () => {
    const prices = venue({ "DOT-USD": new Error("fetch failed: ECONNRESET") });
    const marks = candleMarks(candles, "ONE_HOUR", prices);
    const atom = await unavailable(marks.markPrice("ATOM-USD"));
    expect(atom.productId).toBe("ATOM-USD");
    expect(atom.reason).toMatch(/no ONE_HOUR candle stored, and the venue has no price: .*ATOM-USD/);
    expect((await unavailable(marks.markPrice("DOT-USD"))).reason).toMatch(/ECONNRESET/);
  });

  it("a garbage quote is not a price: zero or negative bid, crossed book", async () => {
    const prices = venue({
      "ZERO-USD": { bid: "0", ask: "0.01", time },
      "NEG-USD": { bid: "-1", ask: "1", time },
      "CROSS-USD": { bid: "2.00", ask: "1.50", time },
    });
    const marks = candleMarks(candles, "ONE_HOUR", prices);
    expect((await unavailable(marks.markPrice("ZERO-USD"))).reason).toMatch(/best bid "0" is not a positive/);
    expect((await unavailable(marks.markPrice("NEG-USD"))).reason).toMatch(/best bid "-1"/);
    expect((await unavailable(marks.markPrice("CROSS-USD"))).reason).toMatch(
      /crossed \(bid 2.00 > ask 1.50\)/,
    );
  });

  it("without a venue an asset without candles is unavailable, not an error that stops the run", async () => {
    const error = await unavailable(candleMarks(candles, "ONE_HOUR").markPrice("ATOM-USD"));
    expect(error.message).toBe(
      "cannot mark ATOM-USD to market: no ONE_HOUR candle stored and no venue price source",
    );
  });

  it("a failing candle store propagates as itself (the run is retried, nothing is zeroed)", async () => {
    const failing = {
      latestCandles: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
    };
    const error = await candleMarks(failing, "ONE_HOUR", venue({}))
      .markPrice("BTC-USD")
      .catch((e) => e);
    expect(error).not.toBeInstanceOf(MarkUnavailableError);
    expect(String(error)).toMatch(/ProvisionedThroughputExceeded/);
  });
});
