import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bundledProductRules } from "#coinbase/product-rules.js";
import {
  COINBASE_MAKER_FEE_BPS,
  COINBASE_TAKER_FEE_BPS,
  DEFAULT_MAX_IMPACT_BPS,
  fixedPriceFill,
  impactBpsFor,
  limitFill,
  limitFillPrice,
  limitFillPriceNumbers,
  type MarketFillInput,
  marketFill,
  marketFillNumbers,
  onGridNumbers,
  quoteOnGrid,
  quoteOnGridNumbers,
  stopLimitOutcome,
  stopLimitOutcomeNumbers,
} from "#exchange/fill-model.js";
import { floorToIncrement, isMultipleOf } from "#exchange/order-math.js";

const BTC = bundledProductRules("BTC-USD");
const SHIB = bundledProductRules("SHIB-USD");
const base: Omit<MarketFillInput, "side" | "referencePrice" | "rules"> = {
  slippageBps: 10,
  impactCoefficient: 0,
  takerFeeBps: COINBASE_TAKER_FEE_BPS,
};

describe("marketFill by hand", () => {
  it("BUY $100 of BTC at ask 50000 with 10 bps slippage: fee-inclusive quote, base floored to 1e-8", () => {
    const fill = marketFill({ ...base, side: "BUY", quoteSize: "100.00", referencePrice: 50000, rules: BTC });
    // 50000 x 1.001 = 50050.00 on the 0.01 grid
    expect(fill.averagePrice).toBe("50050");
    // 100 / 1.006 = 99.40357852... ; / 50050 = 0.0019860855... -> floor 8 dp
    expect(fill.baseSize).toBe("0.00198608");
    expect(fill.quoteValue).toBe("99.403304"); // 0.00198608 x 50050
    expect(fill.fee).toBe("0.596419824"); // x 0.006
    expect(fill.totalQuote).toBe("99.999723824"); // <= 100: less than one satoshi's worth left unspent
    expect(fill.slippageBps).toBe(10);
    expect(fill.impactBps).toBe(0);
  });

  it("SELL 0.5 BTC at bid 40000 with 25 bps slippage: receives value minus the 0.6% fee", () => {
    const fill = marketFill({
      ...base,
      slippageBps: 25,
      side: "SELL",
      baseSize: "0.5",
      referencePrice: "40000",
      rules: BTC,
    });
    expect(fill.averagePrice).toBe("39900"); // 40000 x 0.9975
    expect(fill.quoteValue).toBe("19950");
    expect(fill.fee).toBe("119.7");
    expect(fill.totalQuote).toBe("19830.3");
  });

  it("SHIB: price moved up onto the 1e-8 grid against the buyer, whole-coin base", () => {
    const fill = marketFill({
      ...base,
      slippageBps: 5,
      side: "BUY",
      quoteSize: "10",
      referencePrice: "0.00001726",
      rules: SHIB,
    });
    // 0.00001726 x 1.0005 = 0.00001726863 -> ceil to 0.00001727
    expect(fill.averagePrice).toBe("0.00001727");
    expect(fill.baseSize).toBe("575585"); // floor(10 / 1.006 / 0.00001727)
    expect(fill.quoteValue).toBe("9.94035295");
    expect(fill.fee).toBe("0.0596421177");
    expect(fill.totalQuote).toBe("9.9999950677");
  });

  it("impact: 10 bps per 1% of the candle's volume, capped, full cap on an empty candle", () => {
    expect(impactBpsFor(1, 100, 10)).toBeCloseTo(10, 12);
    expect(impactBpsFor(5, 100, 10)).toBeCloseTo(50, 12);
    expect(impactBpsFor(50, 100, 10)).toBe(DEFAULT_MAX_IMPACT_BPS);
    expect(impactBpsFor(1, 0, 10)).toBe(DEFAULT_MAX_IMPACT_BPS);
    expect(impactBpsFor(1, undefined, 10)).toBe(0);
    const fill = marketFill({
      ...base,
      slippageBps: 0,
      impactCoefficient: 10,
      side: "SELL",
      baseSize: "1",
      candleVolumeBase: 100,
      referencePrice: 50000,
      rules: BTC,
    });
    expect(fill.impactBps).toBeCloseTo(10, 12);
    expect(fill.averagePrice).toBe("49950"); // 50000 x (1 - 10/1e4)
  });

  it("refuses impossible inputs with a message naming the input", () => {
    expect(() => marketFill({ ...base, side: "BUY", referencePrice: 1, rules: BTC })).toThrow(/exactly one/);
    expect(() =>
      marketFill({ ...base, side: "BUY", quoteSize: "10", referencePrice: 0, rules: BTC }),
    ).toThrow(/referencePrice/);
    expect(() =>
      marketFill({ ...base, slippageBps: -1, side: "BUY", quoteSize: "10", referencePrice: 1, rules: BTC }),
    ).toThrow(/slippageBps/);
  });
});

const rulesArb = fc.constantFrom(
  ...["BTC-USD", "ETH-USD", "DOGE-USD", "SHIB-USD", "XLM-USD", "LINK-USD", "XRP-USD"].map(
    bundledProductRules,
  ),
);
const fillInputArb = fc
  .record({
    rules: rulesArb,
    side: fc.constantFrom("BUY" as const, "SELL" as const),
    byQuote: fc.boolean(),
    size: fc.double({ min: 1, max: 50_000, noNaN: true }),
    reference: fc.double({ min: 0.00001, max: 100_000, noNaN: true }),
    slippageBps: fc.integer({ min: 0, max: 100 }),
    impactCoefficient: fc.constantFrom(0, 5, 10),
    volume: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true }), { nil: undefined }),
    takerFeeBps: fc.constantFrom(0, 25, 40, 60, 120),
  })
  .map((r): MarketFillInput => {
    // a real book trades thousands of price increments above zero
    const reference = Decimal.max(r.reference, new Decimal(r.rules.priceIncrement).mul(1000))
      .toSignificantDigits(8)
      .toFixed();
    const quoteSize = new Decimal(r.size).toDecimalPlaces(2).toFixed();
    // venues floor sizes onto the grid before pricing them
    const baseSize = floorToIncrement(new Decimal(r.size).div(reference).toFixed(), r.rules.baseIncrement);
    return {
      side: r.side,
      ...(r.byQuote ? { quoteSize } : { baseSize }),
      referencePrice: reference,
      ...(r.volume !== undefined ? { candleVolumeBase: r.volume } : {}),
      slippageBps: r.slippageBps,
      impactCoefficient: r.impactCoefficient,
      takerFeeBps: r.takerFeeBps,
      rules: r.rules,
    };
  });

describe("marketFill properties", () => {
  it("BUY spends value + fee and never more than quoteSize; SELL receives value - fee; sizes on the grid", () => {
    fc.assert(
      fc.property(fillInputArb, (input) => {
        const fill = marketFill(input);
        const value = new Decimal(fill.quoteValue);
        const fee = new Decimal(fill.fee);
        expect(value.eq(new Decimal(fill.baseSize).mul(fill.averagePrice))).toBe(true);
        expect(fee.eq(value.mul(input.takerFeeBps).div(10_000))).toBe(true);
        expect(isMultipleOf(fill.baseSize, input.rules.baseIncrement)).toBe(true);
        expect(isMultipleOf(fill.averagePrice, input.rules.priceIncrement)).toBe(true);
        if (input.side === "BUY") {
          expect(new Decimal(fill.totalQuote).eq(value.plus(fee))).toBe(true);
          expect(new Decimal(fill.averagePrice).gte(input.referencePrice)).toBe(true);
          if (input.quoteSize !== undefined) {
            expect(new Decimal(fill.totalQuote).lte(input.quoteSize)).toBe(true);
            // what is left unspent is less than one more base increment would have cost
            const oneMore = new Decimal(input.rules.baseIncrement)
              .mul(fill.averagePrice)
              .mul(1 + input.takerFeeBps / 10_000);
            expect(new Decimal(input.quoteSize).minus(fill.totalQuote).lt(oneMore)).toBe(true);
          }
        } else {
          expect(new Decimal(fill.totalQuote).eq(value.minus(fee))).toBe(true);
          expect(new Decimal(fill.averagePrice).lte(input.referencePrice)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("marketFillNumbers agrees with marketFill (the backtester's doubles vs the venue's decimals)", () => {
    fc.assert(
      fc.property(fillInputArb, (input) => {
        const exact = marketFill(input);
        const approx = marketFillNumbers(input);
        expect(approx.impactBps).toBe(exact.impactBps);
        expect(approx.slippageBps).toBe(exact.slippageBps);
        // a double cannot see a move of 1e-15 relative: where the decimal lands one grid step
        // further (price or size), the two differ by exactly that step and no more
        const priceInc = Number(input.rules.priceIncrement);
        const baseInc = Number(input.rules.baseIncrement);
        // (plus the doubles' own rounding of the two values being compared)
        const ulps = (x: number) => Math.abs(x) * 8 * Number.EPSILON;
        expect(Math.abs(approx.averagePrice - Number(exact.averagePrice))).toBeLessThanOrEqual(
          priceInc * 1.000001 + ulps(approx.averagePrice),
        );
        expect(Math.abs(approx.baseSize - Number(exact.baseSize))).toBeLessThanOrEqual(
          baseInc * 1.000001 + ulps(approx.baseSize),
        );
        const price = Number(exact.averagePrice);
        const size = Number(exact.baseSize);
        const tol =
          (size * priceInc + baseInc * price + priceInc * baseInc) * 1.01 + Number(exact.quoteValue) * 1e-12;
        expect(Math.abs(approx.quoteValue - Number(exact.quoteValue))).toBeLessThanOrEqual(tol);
        expect(Math.abs(approx.totalQuote - Number(exact.totalQuote))).toBeLessThanOrEqual(tol * 1.02);
      }),
      { numRuns: 400 },
    );
  });

  it("agrees exactly on sizes for ordinary cases", () => {
    let same = 0;
    const runs = 300;
    fc.assert(
      fc.property(fillInputArb, (input) => {
        const a = marketFillNumbers(input);
        const e = marketFill(input);
        if (a.baseSize.toFixed(8) === new Decimal(e.baseSize).toFixed(8)) same++;
        else if (process.env.DEBUG_FILL) console.log(JSON.stringify({ input, a, e }));
      }),
      { numRuns: runs },
    );
    expect(same / runs).toBeGreaterThanOrEqual(0.99);
  });
});

describe("limit fills", () => {
  it("a BUY fills when the low reaches its limit, a SELL when the high does, at the limit price", () => {
    expect(limitFillPrice({ side: "BUY", limitPrice: "100.00", low: 100.01, high: 101 })).toBeUndefined();
    expect(limitFillPrice({ side: "BUY", limitPrice: "100.00", low: 100, high: 101 })).toBe("100.00");
    expect(limitFillPrice({ side: "SELL", limitPrice: "105.00", low: 100, high: 104.99 })).toBeUndefined();
    expect(limitFillPrice({ side: "SELL", limitPrice: "105.00", low: 100, high: "105.5" })).toBe("105.00");
    expect(limitFillPriceNumbers("BUY", 100, 99.5, 101)).toBe(100);
    expect(limitFillPriceNumbers("SELL", 105, 99.5, 101)).toBeUndefined();
  });

  it("charges the maker fee on the limit value", () => {
    const buy = limitFill({
      side: "BUY",
      baseSize: "0.25",
      limitPrice: "40000",
      makerFeeBps: COINBASE_MAKER_FEE_BPS,
    });
    expect(buy).toEqual({
      averagePrice: "40000",
      baseSize: "0.25",
      quoteValue: "10000",
      fee: "40",
      totalQuote: "10040",
    });
    const sell = limitFill({ side: "SELL", baseSize: "2", limitPrice: "0.5", makerFeeBps: 40 });
    expect(sell.totalQuote).toBe("0.996");
  });
});

describe("stop-limit outcomes", () => {
  const sellStop = { side: "SELL" as const, stopPrice: "95.00", limitPrice: "94.00" };
  const buyStop = { side: "BUY" as const, stopPrice: "105.00", limitPrice: "106.00" };

  it("a SELL stop waits while the low stays above the stop, and triggers when it touches it", () => {
    expect(stopLimitOutcome(sellStop, { open: 100, high: 101, low: 95.01 }, "0.01")).toEqual({
      triggered: false,
    });
    expect(stopLimitOutcome(sellStop, { open: 100, high: 101, low: 95 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: "95",
    });
  });

  it("a SELL stop fills at the open when the market opened below the stop, floored onto the grid", () => {
    expect(stopLimitOutcome(sellStop, { open: 94.567, high: 96, low: 90 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: "94.56",
    });
    // exactly at the limit still fills
    expect(stopLimitOutcome(sellStop, { open: "94.00", high: 96, low: 90 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: "94",
    });
  });

  it("a SELL stop whose market gapped below its limit is triggered but does not fill", () => {
    expect(stopLimitOutcome(sellStop, { open: 93.99, high: 93.99, low: 80 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: undefined,
    });
  });

  it("a BUY stop mirrors it: high reaches the stop, fills at max(stop, open) rounded up, never above the limit", () => {
    expect(stopLimitOutcome(buyStop, { open: 100, high: 104.99, low: 99 }, "0.01")).toEqual({
      triggered: false,
    });
    expect(stopLimitOutcome(buyStop, { open: 100, high: 105, low: 99 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: "105",
    });
    expect(stopLimitOutcome(buyStop, { open: 105.001, high: 107, low: 105 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: "105.01",
    });
    expect(stopLimitOutcome(buyStop, { open: 106.01, high: 107, low: 106 }, "0.01")).toEqual({
      triggered: true,
      fillPrice: undefined,
    });
  });

  it("the double variant agrees with the decimal one", () => {
    const cents = (n: number) => Math.round(n) / 100;
    fc.assert(
      fc.property(
        fc.constantFrom("BUY" as const, "SELL" as const),
        fc.integer({ min: 5_000, max: 15_000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 5_000, max: 15_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        (side, stopCents, gapCents, openCents, upCents, downCents) => {
          const stop = cents(stopCents);
          const limit = side === "SELL" ? cents(stopCents - gapCents) : cents(stopCents + gapCents);
          const open = openCents / 100 + 0.003;
          const high = open + cents(upCents);
          const low = open - cents(downCents);
          const exact = stopLimitOutcome(
            { side, stopPrice: stop.toFixed(2), limitPrice: limit.toFixed(2) },
            { open, high, low },
            "0.01",
          );
          const approx = stopLimitOutcomeNumbers(side, stop, limit, open, high, low, 0.01);
          if (!exact.triggered) expect(approx).toBeNaN();
          else if (exact.fillPrice === undefined) expect(approx).toBeUndefined();
          else expect(approx).toBeCloseTo(Number(exact.fillPrice), 9);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a trigger fill is priced like a limit fill, with the fee rate given (the taker's)", () => {
    expect(fixedPriceFill({ side: "SELL", baseSize: "0.5", price: "95", feeBps: 60 })).toEqual({
      averagePrice: "95",
      baseSize: "0.5",
      quoteValue: "47.5",
      fee: "0.285",
      totalQuote: "47.215",
    });
  });
});

describe("the quote grid in doubles (the backtester's position manager reads the paper venue's bid)", () => {
  /** paper-exchange.ts getBestBidAsk: the quote's double, as a Decimal, floored (bid) or ceiled (ask) onto the grid */
  // the paper venue's getBestBidAsk quotes with quoteOnGrid: one rule, in decimals and in doubles
  const venueQuote = (price: number, increment: string, up: boolean) =>
    Number(quoteOnGrid(price, increment, up));
  const increments = ["1", "0.1", "0.01", "0.001", "0.00001", "0.00000001"];

  it("is the venue's bid and ask exactly, also for a price within float error of a grid line", () => {
    // 0.15138 × (1 - 1e-4) is no grid line; 100 × 0.9999, 0.1 + 0.2 and 0.7 × 3 sit within float error of one
    for (const [price, inc] of [
      [0.15138 * 0.9999, "0.00001"],
      [100 * 0.9999, "0.01"],
      [0.1 + 0.2, "0.1"],
      [0.30000000000000004, "0.01"],
      [483.3 * 0.9999, "0.01"],
      [0.7 * 3, "0.1"], // 2.0999999999999996: just under a grid line
    ] as const) {
      for (const up of [false, true])
        expect(quoteOnGridNumbers(price, Number(inc), up), `${price} on ${inc}`).toBe(
          venueQuote(price, inc, up),
        );
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.constantFrom(...increments),
        fc.constantFrom(0, 1, 2, 5),
        (steps, inc, spreadBps) => {
          // a close on the grid, less half the spread: what the venue quotes as its bid
          const close = onGridNumbers(steps, Number(inc), false);
          const bid = close * (1 - spreadBps / 2 / 10_000);
          expect(quoteOnGridNumbers(bid, Number(inc), false)).toBe(venueQuote(bid, inc, false));
          expect(quoteOnGridNumbers(bid, Number(inc), true)).toBe(venueQuote(bid, inc, true));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("puts whole steps on the double nearest the decimal, as the venue's strings parse", () => {
    expect(onGridNumbers(20_449_203, 1e-8, false)).toBe(0.20449203);
    expect(onGridNumbers(48_325, 0.01, false)).toBe(483.25);
    expect(onGridNumbers(15_138, 0.00001, false)).toBe(0.15138);
    expect(onGridNumbers(7, 10, false)).toBe(70);
  });
});
