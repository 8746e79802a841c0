import { describe, expect, it } from "vitest";
import type { PlaceOrderRequest, ProductRules } from "#exchange/exchange.js";
import { checkOrderSize } from "#exchange/order-math.js";
import {
  localRefusal,
  requestShapeProblem,
  stopDirectionOf,
  stopVersusLastTrade,
} from "#exchange/order-request.js";

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

const stop = (overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: "pos-1-STOP_LOSS-0",
  productId: "BTC-USD",
  side: "SELL",
  type: "STOP_LIMIT",
  baseSize: "0.00123456789",
  stopPrice: "57000.004",
  limitPrice: "56900.001",
  ...overrides,
});

describe("STOP_LIMIT requests", () => {
  it("need baseSize, stopPrice and limitPrice, and no quoteSize", () => {
    expect(requestShapeProblem(stop())).toBeUndefined();
    expect(requestShapeProblem(stop({ stopPrice: undefined }))).toMatch(
      /STOP_LIMIT order needs baseSize, stopPrice and limitPrice/,
    );
    expect(requestShapeProblem(stop({ limitPrice: undefined }))).toMatch(/needs baseSize, stopPrice/);
    expect(requestShapeProblem(stop({ baseSize: undefined }))).toMatch(/needs baseSize, stopPrice/);
    expect(requestShapeProblem(stop({ quoteSize: "100" }))).toMatch(/sized by baseSize, not quoteSize/);
  });

  it("a stopPrice on a MARKET or LIMIT order is refused, not silently dropped", () => {
    const market: PlaceOrderRequest = {
      clientOrderId: "m-1",
      productId: "BTC-USD",
      side: "SELL",
      type: "MARKET",
      baseSize: "0.01",
      stopPrice: "50000",
    };
    expect(requestShapeProblem(market)).toMatch(/MARKET order takes no stopPrice; place a STOP_LIMIT/);
    expect(requestShapeProblem({ ...market, type: "LIMIT", limitPrice: "60000" })).toMatch(
      /LIMIT order takes no stopPrice/,
    );
    expect(localRefusal(market, rules)).toMatchObject({ refusal: { reason: "INVALID_ORDER_REQUEST" } });
    const unknownType = { ...market, type: "STOP" } as unknown as PlaceOrderRequest;
    expect(requestShapeProblem(unknownType)).toMatch(
      /order type "STOP" is not one of MARKET, LIMIT, STOP_LIMIT/,
    );
  });

  it("puts base on the base grid and both prices on the price grid, as a LIMIT's (SELL up, BUY down)", () => {
    expect(localRefusal(stop(), rules)).toEqual({
      submitted: { baseSize: "0.00123456", stopPrice: "57000.01", limitPrice: "56900.01" },
    });
    const buy = stop({ side: "BUY", stopPrice: "61000.009", limitPrice: "61100.009" });
    expect(localRefusal(buy, rules)).toEqual({
      submitted: { baseSize: "0.00123456", stopPrice: "61000.00", limitPrice: "61100.00" },
    });
  });

  it("refuses a SELL whose limit is above its stop: it would never fill as a protective stop", () => {
    const result = localRefusal(stop({ stopPrice: "57000", limitPrice: "57000.01" }), rules);
    expect(result).toEqual({
      refusal: {
        accepted: false,
        reason: "STOP_PRICE_BELOW_LIMIT_PRICE",
        message:
          "pos-1-STOP_LOSS-0: STOP_LIMIT SELL BTC-USD has limit price 57000.01 above its stop price 57000; " +
          "once the stop triggers the price is at or below 57000, so it would never fill as a protective stop. " +
          "Set limitPrice at or below stopPrice.",
      },
    });
    // limit equal to the stop is a valid protective stop
    expect(localRefusal(stop({ stopPrice: "57000", limitPrice: "57000" }), rules)).toHaveProperty(
      "submitted",
    );
  });

  it("refuses a BUY whose limit is below its stop", () => {
    const result = localRefusal(stop({ side: "BUY", stopPrice: "61000", limitPrice: "60999.99" }), rules);
    expect(result).toMatchObject({ refusal: { reason: "STOP_PRICE_ABOVE_LIMIT_PRICE" } });
    if ("refusal" in result)
      expect(result.refusal.message).toMatch(/limit price 60999.99 below its stop price 61000/);
  });

  it("refuses a stop price that is zero, negative or not a number, naming it", () => {
    expect(localRefusal(stop({ stopPrice: "0", limitPrice: "0" }), rules)).toMatchObject({
      refusal: { reason: "STOP_PRICE_NOT_POSITIVE" },
    });
    const garbage = localRefusal(stop({ stopPrice: "57k" }), rules);
    expect(garbage).toMatchObject({ refusal: { reason: "INVALID_ORDER_REQUEST" } });
    if ("refusal" in garbage) expect(garbage.refusal.message).toMatch(/stop price must be a decimal string/);
  });

  it("the product's minimum order value applies to base x limit price", () => {
    const tiny = localRefusal(stop({ baseSize: "0.0001", stopPrice: "5000", limitPrice: "4999" }), rules);
    expect(tiny).toMatchObject({ refusal: { reason: "QUOTE_SIZE_TOO_SMALL" } });
  });
});

describe("checkOrderSize with a stop price", () => {
  it("names an off-grid or non-positive stop", () => {
    const order = { baseSize: "0.001", limitPrice: "60000.00" };
    expect(checkOrderSize(rules, { ...order, stopPrice: "60000.00" })).toEqual({ ok: true });
    expect(checkOrderSize(rules, { ...order, stopPrice: "60000.005" })).toMatchObject({
      ok: false,
      violation: "INVALID_STOP_PRICE_PRECISION",
      message: "stop price 60000.005 is not a multiple of BTC-USD price_increment 0.01",
    });
    expect(checkOrderSize(rules, { ...order, stopPrice: "-1" }).violation).toBe("STOP_PRICE_NOT_POSITIVE");
  });
});

describe("stop direction and the last trade price", () => {
  it("a SELL stop waits for the price to fall, a BUY stop for it to rise", () => {
    expect(stopDirectionOf("SELL")).toBe("STOP_DOWN");
    expect(stopDirectionOf("BUY")).toBe("STOP_UP");
  });

  it("a stop the last trade already reached is refused, as Coinbase's preview does", () => {
    const r = { clientOrderId: "s-1", productId: "BTC-USD", side: "SELL" as const };
    expect(stopVersusLastTrade(r, "57000", "57000.01")).toBeUndefined();
    expect(stopVersusLastTrade(r, "57000", 57000)).toMatchObject({
      reason: "STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
      message: expect.stringMatching(
        /stop price 57000 is not below the last trade price 57000: it would trigger at once/,
      ),
    });
    const b = { ...r, side: "BUY" as const };
    expect(stopVersusLastTrade(b, "61000", "60999.99")).toBeUndefined();
    expect(stopVersusLastTrade(b, "61000", "61000")).toMatchObject({
      reason: "STOP_PRICE_BELOW_LAST_TRADE_PRICE",
    });
  });
});
