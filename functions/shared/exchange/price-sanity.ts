/**
 * The last check before money moves: the venue's quote must sit near the last stored close. A venue
 * answering garbage (a best bid of 0.01, a crossed book) refuses the order instead of filling it at
 * that price. Venue-neutral: the live and paper venues and the backtest ask the same question.
 */
import type { Side } from "#domain/schemas.js";
import type { BestBidAsk } from "./exchange.js";

export interface PriceSanityInput {
  side: Side;
  quote: BestBidAsk;
  /** the last stored close of the product; undefined when none is stored */
  referenceClose: number | undefined;
  /** allowed distance from the reference close, as a fraction (0.1 = ±10%) */
  band: number;
}

export interface PriceSanityRefusal {
  reason: "NO_REFERENCE_PRICE" | "QUOTE_INVALID" | "QUOTE_OUTSIDE_BAND";
  message: string;
}

/** undefined when the order may go; otherwise why not, naming the prices. */
export function priceSanityRefusal(input: PriceSanityInput): PriceSanityRefusal | undefined {
  const { side, quote, referenceClose, band } = input;
  const bid = Number(quote.bid);
  const ask = Number(quote.ask);
  if (referenceClose === undefined || !(referenceClose > 0) || !Number.isFinite(referenceClose)) {
    return {
      reason: "NO_REFERENCE_PRICE",
      message:
        "no stored close to compare the venue's quote with; run market-data for this product before trading it",
    };
  }
  if (!(bid > 0) || !(ask > 0) || !Number.isFinite(bid) || !Number.isFinite(ask) || bid > ask) {
    return {
      reason: "QUOTE_INVALID",
      message: `the venue quoted bid ${quote.bid} / ask ${quote.ask} (${quote.time}): not a valid book`,
    };
  }
  const price = side === "BUY" ? ask : bid;
  const distance = Math.abs(price - referenceClose) / referenceClose;
  if (distance > band) {
    return {
      reason: "QUOTE_OUTSIDE_BAND",
      message:
        `the venue's ${side === "BUY" ? "ask" : "bid"} ${side === "BUY" ? quote.ask : quote.bid} is ` +
        `${(distance * 100).toFixed(2)}% from the last close ${referenceClose}, outside the ` +
        `±${(band * 100).toFixed(1)}% band (EXECUTION_PRICE_BAND); nothing was sent`,
    };
  }
  return undefined;
}
