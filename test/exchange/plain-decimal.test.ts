/**
 * The order rules' fast paths on plain text (exchange/plain-decimal.ts) against their definitions in
 * decimal.js at a precision no input here can reach: every fast path gives the definition's answer,
 * text for text.
 */
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bundledProductRules } from "#coinbase/product-rules.js";
import type { ProductRules } from "#exchange/exchange.js";
import {
  checkOrderSize,
  checkOrderSizeExactly,
  compareDecimals,
  decimalTextOf,
  roundPriceToIncrement,
} from "#exchange/order-math.js";
import { ceilPlain, comparePlain, floorPlain, multiplyPlain, textOfUnits } from "#exchange/plain-decimal.js";
import { restingTerms } from "#exits/resting-stop.js";
import { orderRequestFor } from "#steps/execute-trade.js";

const Exact = Decimal.clone({ precision: 200, toExpNeg: -200, toExpPos: 200 });

/** ETH-USD's rules as bundled (Coinbase's), with some of them replaced */
const rulesWith = (overrides: Partial<ProductRules>): ProductRules => ({
  ...bundledProductRules("ETH-USD"),
  ...overrides,
});

/** Plain text, with leading and trailing zeros now and then. */
const plainText = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 10n ** 18n }),
    fc.integer({ min: 0, max: 14 }),
    fc.constantFrom("", "", "", "0", "00"),
    fc.constantFrom("", "", "", "0", "000"),
  )
  .map(([digits, scale, lead, trail]) => {
    const text = new Exact(digits.toString()).div(new Exact(10).pow(scale)).toFixed();
    const withTrail = trail && !text.includes(".") ? `${text}.${trail}` : `${text}${trail}`;
    return `${lead}${withTrail}`;
  });
const places = fc.integer({ min: 0, max: 10 });
const powerOfTen = places.map((p) => (p === 0 ? "1" : `0.${"0".repeat(p - 1)}1`));
const increment = fc.oneof(powerOfTen, fc.constantFrom("10", "0.5", "0.25", "0.05"));

describe("plain text arithmetic", () => {
  it("compares, floors and ceils as decimal.js does", () => {
    fc.assert(
      fc.property(plainText, plainText, places, (a, b, p) => {
        expect(comparePlain(a, b)).toBe(new Exact(a).cmp(b));
        expect(floorPlain(a, p)).toBe(new Exact(a).toDecimalPlaces(p, Decimal.ROUND_FLOOR).toFixed(p));
        expect(ceilPlain(a, p)).toBe(new Exact(a).toDecimalPlaces(p, Decimal.ROUND_CEIL).toFixed(p));
        const product = multiplyPlain(a, b);
        expect(textOfUnits(product.units, product.scale)).toBe(new Exact(a).mul(b).toFixed(product.scale));
      }),
      { numRuns: 2000 },
    );
  });

  it("compares numbers and text exactly, on plain text or not", () => {
    const value = fc.oneof(
      plainText,
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom("-1.5", "1e-9", "2E+3", "-0", 0, -0, 1e21, 5e-324),
    );
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(compareDecimals(a, b)).toBe(new Exact(a).cmp(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes a number as new Decimal(n).toFixed() does", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(decimalTextOf(n)).toBe(new Decimal(n).toFixed());
      }),
      { numRuns: 2000 },
    );
    for (const n of [0, -0, 1e-7, 1.5e-7, 1e21, 123456789012345680000, 0.1 + 0.2])
      expect(decimalTextOf(n)).toBe(new Decimal(n).toFixed());
  });
});

describe("roundPriceToIncrement on plain text", () => {
  it("gives the decimal definition: floor (BUY) or ceil (SELL) of price / increment, times the increment", () => {
    fc.assert(
      fc.property(
        plainText,
        increment,
        fc.constantFrom("BUY" as const, "SELL" as const),
        (price, inc, side) => {
          const steps = new Exact(price).div(inc);
          const expected = (side === "BUY" ? steps.floor() : steps.ceil())
            .mul(inc)
            .toFixed(Math.max(0, new Exact(inc).decimalPlaces()));
          expect(roundPriceToIncrement(price, inc, side)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("checkOrderSize on plain text", () => {
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const rulesOf = fc
    .record({
      baseIncrement: increment,
      quoteIncrement: increment,
      priceIncrement: increment,
      baseMinSize: plainText,
      baseMaxSize: fc.oneof(plainText, fc.constant("1000000000")),
      quoteMinSize: plainText,
      quoteMaxSize: fc.oneof(plainText, fc.constant("1000000000")),
    })
    .map(rulesWith);
  /** sizes on the grid more often than chance would put them there */
  const gridded = (inc: string) => plainText.map((t) => new Exact(t).div(inc).floor().mul(inc).toFixed());
  const odd = fc.constantFrom("-1", "1e-3", "0", "0.000");

  it("agrees with the decimal checks, violation and message included", () => {
    fc.assert(
      fc.property(
        rulesOf.chain((rules) =>
          fc.tuple(
            fc.constant(rules),
            fc.record({
              baseSize: maybe(fc.oneof(gridded(rules.baseIncrement), plainText, odd)),
              quoteSize: maybe(fc.oneof(gridded(rules.quoteIncrement), plainText, odd)),
              limitPrice: maybe(fc.oneof(gridded(rules.priceIncrement), plainText, odd)),
              stopPrice: maybe(fc.oneof(gridded(rules.priceIncrement), plainText, odd)),
            }),
          ),
        ),
        ([rules, order]) => {
          const sized = Object.fromEntries(Object.entries(order).filter(([, v]) => v !== undefined));
          expect(checkOrderSize(rules, sized)).toEqual(checkOrderSizeExactly(rules, sized));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("agrees with the decimal checks when base x limit is at a limit, or a last digit off it", () => {
    const rules = (quoteMinSize: string, quoteMaxSize: string) =>
      rulesWith({ baseMinSize: "0", baseMaxSize: "1000000000", quoteMinSize, quoteMaxSize });
    const base = fc
      .bigInt({ min: 1n, max: 10n ** 12n })
      .map((u) => new Exact(u.toString()).div(1e8).toFixed());
    const price = fc
      .bigInt({ min: 1n, max: 10n ** 9n })
      .map((u) => new Exact(u.toString()).div(100).toFixed());
    fc.assert(
      fc.property(base, price, fc.integer({ min: -1, max: 1 }), fc.boolean(), (b, l, nudge, atMin) => {
        const exact = new Exact(b).mul(l);
        const edge = exact.plus(new Exact(nudge).div(new Exact(10).pow(exact.decimalPlaces() + 1))).toFixed();
        const r = atMin ? rules(edge, "1000000000000") : rules("0", edge);
        const order = { baseSize: b, limitPrice: l };
        expect(checkOrderSize(r, order)).toEqual(checkOrderSizeExactly(r, order));
      }),
      { numRuns: 2000 },
    );
  });

  it("passes a typical order on the fast path and refuses one under the minimum with the decimal message", () => {
    const rules = rulesWith({});
    expect(
      checkOrderSize(rules, { baseSize: "0.0312", limitPrice: "2940.01", stopPrice: "2950.00" }),
    ).toEqual({
      ok: true,
    });
    expect(checkOrderSize(rules, { baseSize: "0.0003", limitPrice: "2940.01" })).toEqual({
      ok: false,
      violation: "QUOTE_SIZE_TOO_SMALL",
      message: "order value 0.882003 is below ETH-USD quote_min_size 1",
    });
  });
});

describe("restingTerms on a power-of-ten grid", () => {
  /** restingTerms' decimal definition, at a precision no double reaches */
  function definition(level: number, inc: string, offset: number) {
    const step = new Exact(inc);
    const up = (price: Decimal) => price.div(step).minus(1e-9).ceil().mul(step);
    const stop = up(new Exact(level));
    const limit = up(stop.mul(1 - offset));
    const dp = Math.max(0, step.decimalPlaces());
    return { stopPrice: stop.toFixed(dp), limitPrice: limit.toFixed(dp) };
  }

  it("gives the decimal definition for stops from doubles, near grid lines and off them", () => {
    const onGridWithNoise = fc
      .tuple(fc.integer({ min: 1, max: 10_000_000 }), powerOfTen, fc.constantFrom(0, 1e-12, -1e-12, 3e-10))
      .map(([k, inc, noise]) => ({ level: k * Number(inc) * (1 + noise), inc }));
    const anywhere = fc
      .tuple(fc.double({ min: 1e-6, max: 1e7, noNaN: true }), increment)
      .map(([level, inc]) => ({ level, inc }));
    const offset = fc.oneof(
      fc.constantFrom(0, 0.005, 0.01, 0.05, 0.2),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.oneof(onGridWithNoise, anywhere), offset, ({ level, inc }, off) => {
        expect(restingTerms(level, inc, off)).toEqual(definition(level, inc, off));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("orderRequestFor's SELL size", () => {
  it("is the smaller of the approved and the held base, floored onto the base grid", () => {
    const rules = (baseIncrement: string) =>
      rulesWith({
        baseIncrement,
        baseMinSize: "0",
        baseMaxSize: "1000000000",
        quoteMinSize: "0",
        quoteMaxSize: "1000000000",
      });
    const size = fc.oneof(plainText, fc.constantFrom("-1", "1e-3"));
    fc.assert(
      fc.property(size, fc.option(size, { nil: undefined }), increment, (wanted, held, inc) => {
        const smaller = Decimal.max(Decimal.min(new Exact(wanted), new Exact(held ?? "0")), 0);
        const expected = smaller
          .div(inc)
          .floor()
          .mul(inc)
          .toFixed(Math.max(0, new Exact(inc).decimalPlaces()));
        const request = orderRequestFor(
          { symbol: "ETH-USD", side: "SELL", baseSize: wanted },
          rules(inc),
          held,
          "id-1",
        );
        expect(request.baseSize).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
