import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinbaseApiError, CoinbaseNetworkError, CoinbaseResponseError } from "#coinbase/errors.js";
import { CoinbaseHttp } from "#coinbase/http.js";
import { CoinbaseMarketData, MAX_CANDLES_PER_REQUEST } from "#coinbase/market-data.js";
import { selectTopProducts } from "#coinbase/product-selector.js";
import { ProductWire, ServerTimeWire } from "#coinbase/wire.js";
import { Candle } from "#domain/schemas.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";

const NOW_MS = Date.UTC(2024, 6, 1, 12, 30); // 2024-07-01T12:30Z, inside an open 1h bucket
const HOUR = 3600;
const NOW_BUCKET = Math.floor(NOW_MS / 1000 / HOUR) * HOUR;

let fake: FakeCoinbase;
const sleeps: number[] = [];
const client = () =>
  new CoinbaseMarketData({
    baseUrl: fake.baseUrl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    timeoutMs: 2000,
  });

beforeAll(async () => {
  fake = await startFakeCoinbase({ nowMs: () => NOW_MS, seed: 7 });
});
afterAll(async () => {
  await fake.close();
});

function candleRequests(since: number) {
  return fake.requests.slice(since).filter((r) => r.path.endsWith("/candles"));
}

describe("getCandles", () => {
  it("pages a 1000-hour window at <= 300 buckets, never trips the 350 rule, returns ascending parsed candles", async () => {
    const before = fake.requests.length;
    const start = NOW_BUCKET - 1000 * HOUR;
    const candles = await client().getCandles("BTC-USD", "ONE_HOUR", start, NOW_BUCKET);
    const requests = candleRequests(before);
    expect(requests.length).toBe(Math.ceil(1000 / MAX_CANDLES_PER_REQUEST));
    for (const r of requests) {
      expect(r.status).toBe(200);
      const span = Number(r.query.get("end")) - Number(r.query.get("start"));
      expect(Math.ceil(span / HOUR)).toBeLessThanOrEqual(MAX_CANDLES_PER_REQUEST);
    }
    expect(candles).toHaveLength(1000);
    expect(candles[0]!.start).toBe(start);
    expect(candles.at(-1)!.start).toBe(NOW_BUCKET - HOUR);
    for (let i = 1; i < candles.length; i++) expect(candles[i]!.start - candles[i - 1]!.start).toBe(HOUR);
    for (const c of candles) expect(Candle.safeParse(c).success).toBe(true);
    const wire = fake.candleAt("BTC-USD", "ONE_HOUR", start)!;
    expect(candles[0]).toEqual({
      symbol: "BTC-USD",
      granularity: "ONE_HOUR",
      start,
      open: Number(wire.open),
      high: Number(wire.high),
      low: Number(wire.low),
      close: Number(wire.close),
      volume: Number(wire.volume),
      source: "coinbase",
    });
  });

  it("includes the still-open bucket only when asked past it, and keeps gaps as gaps", async () => {
    fake.addCandleGap("ETH-USD", NOW_BUCKET - 10 * HOUR, NOW_BUCKET - 7 * HOUR);
    const candles = await client().getCandles(
      "ETH-USD",
      "ONE_HOUR",
      NOW_BUCKET - 20 * HOUR,
      NOW_BUCKET + HOUR,
    );
    const starts = candles.map((c) => c.start);
    expect(starts).toContain(NOW_BUCKET);
    expect(candles).toHaveLength(21 - 3);
    expect(starts).not.toContain(NOW_BUCKET - 9 * HOUR);
  });

  it("retries a 429 with an HTML body, then succeeds", async () => {
    sleeps.length = 0;
    fake.faults.rateLimit(2, { path: "/market/products/SOL-USD/candles" });
    const before = fake.requests.length;
    const candles = await client().getCandles("SOL-USD", "FIVE_MINUTE", NOW_BUCKET - 3600, NOW_BUCKET);
    expect(candles).toHaveLength(12);
    expect(candleRequests(before).map((r) => r.status)).toEqual([429, 429, 200]);
    // full jitter with random()=0.5: half of 250 ms, then half of 500 ms
    expect(sleeps).toEqual([125, 250]);
  });

  it("gives up after the bounded attempts with a typed 429 error, without parsing the HTML", async () => {
    fake.faults.rateLimit(10, { path: "/market/products/SOL-USD/candles" });
    const http = new CoinbaseHttp({ baseUrl: fake.baseUrl, sleep: async () => {}, maxAttempts: 3 });
    const error = await new CoinbaseMarketData(http)
      .getCandles("SOL-USD", "ONE_HOUR", NOW_BUCKET - 3 * HOUR, NOW_BUCKET)
      .catch((e: unknown) => e);
    fake.faults.clear();
    expect(error).toBeInstanceOf(CoinbaseApiError);
    expect(error).toMatchObject({
      status: 429,
      attempts: 3,
      method: "GET",
      path: "/api/v3/brokerage/market/products/SOL-USD/candles",
    });
    expect((error as Error).message).toMatch(/Rate limited/);
    expect((error as Error).message).not.toContain("<html");
  });

  it("the fake enforces the 350 rule with Coinbase's 400 body, surfaced as a clear error", async () => {
    const http = new CoinbaseHttp({ baseUrl: fake.baseUrl, sleep: async () => {} });
    const error = await http
      .request({
        method: "GET",
        path: "/market/products/BTC-USD/candles",
        query: { start: NOW_BUCKET - 400 * HOUR, end: NOW_BUCKET, granularity: "ONE_HOUR" },
        private: false,
        schema: ServerTimeWire,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoinbaseApiError);
    expect(error).toMatchObject({
      status: 400,
      attempts: 1,
      error: "INVALID_ARGUMENT",
      detail: "number of candles requested should be less than 350",
    });
    expect((error as Error).message).toContain(
      "GET /api/v3/brokerage/market/products/BTC-USD/candles answered HTTP 400",
    );
  });

  it("reports an unknown product as a 404 naming the product", async () => {
    const error = await client()
      .getCandles("NOPE-USD", "ONE_HOUR", NOW_BUCKET - HOUR, NOW_BUCKET)
      .catch((e) => e);
    expect(error).toBeInstanceOf(CoinbaseApiError);
    expect(error).toMatchObject({
      status: 404,
      error: "NOT_FOUND",
      detail: "Product NOPE-USD not supported",
    });
  });

  it("retries 5xx then succeeds; exhausted timeouts become a CoinbaseNetworkError", async () => {
    fake.faults.serverError(1, 502, { path: "/time" });
    fake.faults.serverError(1, 500, { path: "/time" });
    expect((await client().getServerTime()).epochSeconds).toBe(Math.floor(NOW_MS / 1000));

    fake.faults.hangBeforeAccept(2, { path: "/time" });
    const http = new CoinbaseHttp({
      baseUrl: fake.baseUrl,
      sleep: async () => {},
      maxAttempts: 2,
      timeoutMs: 100,
    });
    const error = await new CoinbaseMarketData(http).getServerTime().catch((e) => e);
    expect(error).toBeInstanceOf(CoinbaseNetworkError);
    expect(error).toMatchObject({ timedOut: true, attempts: 2 });
  });

  it("refuses a 2xx body of the wrong shape with CoinbaseResponseError", async () => {
    const http = new CoinbaseHttp({ baseUrl: fake.baseUrl });
    const error = await http
      .request({ method: "GET", path: "/time", private: false, schema: ProductWire })
      .catch((e) => e);
    expect(error).toBeInstanceOf(CoinbaseResponseError);
    expect((error as Error).message).toMatch(/product_id/);
  });
});

describe("products and the selector", () => {
  it("lists and reads products", async () => {
    const products = await client().listProducts();
    expect(products.map((p) => p.product_id)).toContain("BTC-USD");
    const btc = await client().getProduct("BTC-USD");
    expect(btc).toMatchObject({ product_id: "BTC-USD", base_increment: "0.00000001", status: "online" });
  });

  it("keeps tradable USD spot books by 24h quote volume, without stablecoins, aliases or halted books", async () => {
    const products = await client().listProducts();
    // SOL has no approximate_quote_24h_volume: 900000 x 150 = 135M ranks it below ETH (288M)
    expect(selectTopProducts(products).map((p) => p.productId)).toEqual([
      "BTC-USD",
      "ETH-USD",
      "SOL-USD",
      "DOGE-USD",
    ]);
    expect((await client().selectProducts({ limit: 2 })).map((p) => p.productId)).toEqual([
      "BTC-USD",
      "ETH-USD",
    ]);
    expect(selectTopProducts(products, { deny: ["ETH-USD"] }).map((p) => p.productId)).toEqual([
      "BTC-USD",
      "SOL-USD",
      "DOGE-USD",
    ]);
    expect(
      selectTopProducts(products, { allow: ["DOGE-USD", "USDT-USD", "LUNA-USD"] }).map((p) => p.productId),
    ).toEqual(["DOGE-USD"]);
    expect(selectTopProducts(products)[2]).toEqual({
      productId: "SOL-USD",
      baseCurrency: "SOL",
      quoteVolume24h: 135_000_000,
    });
  });

  it("parses the documented product example (fixture) and drops limit/post-only books only when asked", async () => {
    const { readFileSync } = await import("node:fs");
    const example = JSON.parse(
      readFileSync(new URL("../fixtures/coinbase/product-btc-usd.json", import.meta.url), "utf8"),
    ) as unknown;
    const product = ProductWire.parse(example);
    expect(selectTopProducts([product]).map((p) => p.productId)).toEqual(["BTC-USD"]);
    expect(selectTopProducts([{ ...product, status: "delisted" }])).toEqual([]);
    expect(selectTopProducts([{ ...product, product_type: "FUTURE" }])).toEqual([]);
    expect(selectTopProducts([{ ...product, is_disabled: true }])).toEqual([]);
  });
});
