/**
 * The local public market data (local/market-server.ts) answers as Coinbase's public endpoints do
 * (protocols.md A.4), from replay files: read here through the project's own Coinbase client, and
 * raw, for the wire details the client hides (newest first, strings, the 350 rule, 404s).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { type LocalMarket, replayShiftFor, startLocalMarket } from "#local/market-server.js";
import { readCandleColumns } from "#market-data/replay.js";
import { APRIL_CANDLES, APRIL_SYMBOLS } from "#test/e2e/support.js";

const HOUR = 3600;
const SHIFT = 7 * 86_400;
const avax = readCandleColumns(join(APRIL_CANDLES, "AVAX-USDT_1h.csv"));
const firstStart = avax.start[0]!;
/** the market's clock: 30 minutes into the 200th shifted bucket */
const nowSec = firstStart + SHIFT + 199 * HOUR + 1800;

let market: LocalMarket;
let client: CoinbaseMarketData;
beforeAll(async () => {
  market = await startLocalMarket({
    candlesDir: APRIL_CANDLES,
    shiftSeconds: SHIFT,
    nowMs: () => nowSec * 1000,
  });
  client = new CoinbaseMarketData({ baseUrl: market.baseUrl });
});
afterAll(() => market.close());

const get = async (path: string) => {
  const res = await fetch(`${market.baseUrl}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("local market", () => {
  it("serves every product that has a replay file and a bundled rule", () => {
    expect(market.productIds).toEqual([...APRIL_SYMBOLS].sort());
    expect(market.lastCloseSec).toBe(avax.start[avax.length - 1]! + SHIFT + HOUR);
  });

  it("serves the replayed candles, shifted, through the Coinbase client, closed buckets only", async () => {
    const candles = await client.getCandles("AVAX-USD", "ONE_HOUR", firstStart + SHIFT, nowSec + HOUR);
    // 199 buckets have closed by now; the 200th is still open and not served
    expect(candles).toHaveLength(199);
    candles.forEach((c, i) => {
      expect(c.start).toBe(avax.start[i]! + SHIFT);
      expect([c.open, c.high, c.low, c.close, c.volume]).toEqual([
        avax.open[i],
        avax.high[i],
        avax.low[i],
        avax.close[i],
        avax.volume[i],
      ]);
    });
  });

  it("answers in Coinbase's wire format: newest first, every value a string", async () => {
    const start = firstStart + SHIFT;
    const { status, body } = await get(
      `/market/products/AVAX-USD/candles?start=${start}&end=${start + 3 * HOUR - 1}&granularity=ONE_HOUR`,
    );
    expect(status).toBe(200);
    const candles = body.candles as Record<string, unknown>[];
    expect(candles.map((c) => c.start)).toEqual([
      String(start + 2 * HOUR),
      String(start + HOUR),
      String(start),
    ]);
    for (const c of candles) for (const v of Object.values(c)) expect(typeof v).toBe("string");
  });

  it("refuses what Coinbase refuses: 350 buckets or more, an unknown product, a granularity it lacks", async () => {
    const start = firstStart + SHIFT;
    const tooMany = await get(
      `/market/products/AVAX-USD/candles?start=${start}&end=${start + 400 * HOUR}&granularity=ONE_HOUR`,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({
      error: "INVALID_ARGUMENT",
      message: "number of candles requested should be less than 350",
    });
    const unknown = await get(`/market/products/NOPE-USD/candles?start=1&end=2&granularity=ONE_HOUR`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: "NOT_FOUND", message: "Product NOPE-USD not supported" });
    const minute = await get(
      `/market/products/AVAX-USD/candles?start=${start}&end=${start + 60}&granularity=ONE_MINUTE`,
    );
    expect(minute.status).toBe(400);
    expect(String(minute.body.message)).toMatch(/only at ONE_HOUR/);
  });

  it("lists products the pipeline's universe selection accepts, priced at the last closed candle", async () => {
    const selected = await client.selectProducts({ limit: 20, quoteCurrency: "USD" });
    expect(selected.map((p) => p.productId).sort()).toEqual([...APRIL_SYMBOLS].sort());
    const product = await client.getProduct("AVAX-USD");
    expect(Number(product.price)).toBe(avax.close[198]);
    const time = await client.getServerTime();
    expect(time.epochSeconds).toBe(nowSec);
  });
});

describe("replayShiftFor", () => {
  it("shifts by whole days so that now lies within a day after the warm-up", () => {
    const first = 1_710_892_800;
    for (const now of [1_796_587_674, 1_800_000_000, first + 524 * HOUR + 5]) {
      const shift = replayShiftFor(first, now, 524);
      expect(shift % 86_400).toBe(0);
      const replayNow = now - shift;
      expect(replayNow).toBeGreaterThanOrEqual(first + 524 * HOUR);
      expect(replayNow).toBeLessThan(first + 524 * HOUR + 86_400);
    }
  });
});
