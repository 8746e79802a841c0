import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ProductRules } from "#exchange/exchange.js";
import {
  checkOrderSize,
  floorToIncrement,
  isMultipleOf,
  roundPriceToIncrement,
} from "#exchange/order-math.js";

const increments = fc.constantFrom(
  "0.00000001",
  "0.000001",
  "0.001",
  "0.01",
  "0.1",
  "1",
  "0.5",
  "0.25",
  "10",
);
const decimals = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 14n }), fc.integer({ min: 0, max: 12 }))
  .map(([digits, scale]) => new Decimal(digits.toString()).div(new Decimal(10).pow(scale)).toFixed());

describe("floorToIncrement", () => {
  it("is a multiple of the increment, never above the input, and less than one increment below it", () => {
    fc.assert(
      fc.property(decimals, increments, (value, increment) => {
        const floored = floorToIncrement(value, increment);
        expect(isMultipleOf(floored, increment)).toBe(true);
        expect(new Decimal(floored).lte(value)).toBe(true);
        expect(new Decimal(value).minus(floored).lt(increment)).toBe(true);
        expect(floorToIncrement(floored, increment)).toBe(floored);
      }),
      { numRuns: 500 },
    );
  });

  it("formats with the increment's decimals and refuses garbage", () => {
    expect(floorToIncrement("0.123456789", "0.00000001")).toBe("0.12345678");
    expect(floorToIncrement("100.009", "0.01")).toBe("100.00");
    expect(floorToIncrement("7.9", "0.5")).toBe("7.5");
    expect(floorToIncrement("12345", "10")).toBe("12340");
    expect(() => floorToIncrement("abc", "0.01")).toThrow(/decimal string/);
    expect(() => floorToIncrement("1", "0")).toThrow(/increment must be positive/);
  });
});

describe("roundPriceToIncrement", () => {
  it("lands on the grid, down for BUY and up for SELL, within one increment", () => {
    fc.assert(
      fc.property(decimals, increments, fc.constantFrom("BUY", "SELL" as const), (price, increment, side) => {
        const rounded = roundPriceToIncrement(price, increment, side);
        expect(isMultipleOf(rounded, increment)).toBe(true);
        const diff = new Decimal(rounded).minus(price);
        if (side === "BUY") expect(diff.lte(0)).toBe(true);
        else expect(diff.gte(0)).toBe(true);
        expect(diff.abs().lt(increment)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("checkOrderSize", () => {
  const rules: ProductRules = {
    productId: "BTC-USD",
    baseIncrement: "0.00000001",
    quoteIncrement: "0.01",
    priceIncrement: "0.01",
    baseMinSize: "0.0001",
    baseMaxSize: "3400",
    quoteMinSize: "1",
    quoteMaxSize: "1000000",
    tradable: true,
    limitOnly: false,
    postOnly: false,
  };
  it("names the violated rule", () => {
    expect(checkOrderSize(rules, { quoteSize: "100.00" })).toEqual({ ok: true });
    expect(checkOrderSize(rules, { baseSize: "0.001", limitPrice: "60000.00" })).toEqual({ ok: true });
    expect(checkOrderSize(rules, { quoteSize: "0.99" }).violation).toBe("QUOTE_SIZE_TOO_SMALL");
    expect(checkOrderSize(rules, { quoteSize: "2000000" }).violation).toBe("QUOTE_SIZE_TOO_LARGE");
    expect(checkOrderSize(rules, { quoteSize: "10.001" }).violation).toBe("INVALID_SIZE_PRECISION");
    expect(checkOrderSize(rules, { baseSize: "0.00001" }).violation).toBe("BASE_SIZE_TOO_SMALL");
    expect(checkOrderSize(rules, { baseSize: "3401" }).violation).toBe("BASE_SIZE_TOO_LARGE");
    expect(checkOrderSize(rules, { baseSize: "0.000100001" }).violation).toBe("INVALID_SIZE_PRECISION");
    expect(checkOrderSize(rules, { baseSize: "0.001", limitPrice: "60000.001" }).violation).toBe(
      "INVALID_PRICE_PRECISION",
    );
    // limit notional under quote_min_size: 0.0001 x 5000 = 0.5 USD
    expect(checkOrderSize(rules, { baseSize: "0.0001", limitPrice: "5000.00" }).message).toMatch(
      /order value 0.5 is below BTC-USD quote_min_size 1/,
    );
  });
});

describe("power-of-ten increments: the digit cut equals the decimal arithmetic", () => {
  const Increment = fc.constantFrom("1", "0.1", "0.01", "0.001", "0.00000001", "1.0", "0.010");
  const Plain = fc
    .tuple(
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 3 }),
    )
    .map(([digits, places, zeros]) => {
      const text = digits.toString().padStart(places + 1, "0");
      const value = places === 0 ? text : `${text.slice(0, -places)}.${text.slice(-places)}`;
      return "0".repeat(zeros) + value;
    });

  it("floorToIncrement and isMultipleOf agree with div/floor/mul and mod", () => {
    fc.assert(
      fc.property(Plain, Increment, (value, increment) => {
        const inc = new Decimal(increment);
        const expected = new Decimal(value)
          .div(inc)
          .floor()
          .mul(inc)
          .toFixed(Math.max(0, inc.decimalPlaces()));
        expect(floorToIncrement(value, increment)).toBe(expected);
        expect(isMultipleOf(value, increment)).toBe(new Decimal(value).mod(inc).isZero());
      }),
      { numRuns: 2000 },
    );
  });

  it("other increments and other notations still take the decimal path", () => {
    expect(floorToIncrement("1.37", "0.25")).toBe("1.25");
    expect(floorToIncrement("1e-7", "0.00000001")).toBe("0.00000010");
    expect(isMultipleOf("0.75", "0.25")).toBe(true);
    expect(isMultipleOf("5e-8", "0.00000001")).toBe(true);
  });
});
