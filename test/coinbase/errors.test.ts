/** What a failed Coinbase request tells its reader to do depends on whether it placed an order. */
import { describe, expect, it } from "vitest";
import { CoinbaseApiError, CoinbaseNetworkError, placesOrder } from "#coinbase/errors.js";

const REPLAY = /client_order_id/;
const cause = Object.assign(new Error("fetch failed"), { cause: { code: "ENOTFOUND" } });

describe("Coinbase request errors", () => {
  it("only an order placement (POST .../orders) is one", () => {
    expect(placesOrder({ method: "POST", path: "/api/v3/brokerage/orders" })).toBe(true);
    expect(placesOrder({ method: "POST", path: "/orders?x=1" })).toBe(true);
    expect(placesOrder({ method: "POST", path: "/api/v3/brokerage/orders/batch_cancel" })).toBe(false);
    expect(placesOrder({ method: "POST", path: "/api/v3/brokerage/orders/preview" })).toBe(false);
    expect(placesOrder({ method: "GET", path: "/api/v3/brokerage/orders/historical/batch" })).toBe(false);
    expect(placesOrder({ method: "GET", path: "/api/v3/brokerage/market/products" })).toBe(false);
  });

  it("no answer to a GET says to check the network, not to replay an order", () => {
    const error = new CoinbaseNetworkError({
      request: { method: "GET", path: "/api/v3/brokerage/market/products" },
      attempts: 4,
      timedOut: false,
      cause,
    });
    expect(error.message).toBe(
      "Coinbase GET /api/v3/brokerage/market/products got no answer after 4 attempts (fetch failed (ENOTFOUND)). Check the network and COINBASE_API_BASE_URL, then retry.",
    );
  });

  it("no answer to an order placement says its outcome is unknown and to replay its client_order_id", () => {
    const error = new CoinbaseNetworkError({
      request: { method: "POST", path: "/api/v3/brokerage/orders" },
      attempts: 1,
      timedOut: true,
      cause,
    });
    expect(error.message).toContain("(timed out). The outcome is unknown: replay the same client_order_id");
  });

  it("a 5xx names the client_order_id only for an order placement", () => {
    const get = new CoinbaseApiError({
      status: 503,
      request: { method: "GET", path: "/accounts" },
      attempts: 3,
    });
    expect(get.action).toBe("Coinbase is failing: retry later.");
    expect(get.message).not.toMatch(REPLAY);
    const post = new CoinbaseApiError({
      status: 500,
      request: { method: "POST", path: "/orders" },
      attempts: 1,
    });
    expect(post.action).toMatch(REPLAY);
  });
});
