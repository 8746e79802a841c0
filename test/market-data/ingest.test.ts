import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import type { Candle, Granularity } from "#domain/schemas.js";
import { type CandleSink, type CandleSource, ingestCandles } from "#market-data/ingest.js";
import { ReplayCandleSource } from "#market-data/replay.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { SHARED_CANDLES } from "#test/support/paths.js";

const HOUR = 3600;
const NOW_MS = Date.UTC(2024, 6, 1, 12, 30);
const OPEN_BUCKET = Math.floor(NOW_MS / 1000 / HOUR) * HOUR;

/** Keyed like the DynamoDB table (symbol + granularity + start), so a re-put overwrites. */
class MemorySink implements CandleSink {
  readonly rows = new Map<string, Candle>();
  puts = 0;
  async putCandles(candles: Candle[]) {
    this.puts++;
    for (const c of candles) this.rows.set(`${c.symbol}#${c.granularity}#${c.start}`, c);
    return { written: candles.length };
  }
  async latestCandleStart(symbol: string, granularity: Granularity) {
    let latest: number | undefined;
    for (const c of this.rows.values())
      if (c.symbol === symbol && c.granularity === granularity && (latest === undefined || c.start > latest))
        latest = c.start;
    return latest;
  }
}

let fake: FakeCoinbase;
let clockMs = NOW_MS;
let coinbase: CoinbaseMarketData;
beforeAll(async () => {
  fake = await startFakeCoinbase({ nowMs: () => clockMs });
  coinbase = new CoinbaseMarketData({ baseUrl: fake.baseUrl, sleep: async () => {} });
});
afterAll(async () => {
  await fake.close();
});

describe("ingestCandles", () => {
  it("backfills up to the last closed bucket, then continues from the stored candle", async () => {
    const sink = new MemorySink();
    fake.addCandleGap("ETH-USD", OPEN_BUCKET - 50 * HOUR, OPEN_BUCKET - 47 * HOUR);
    const first = await ingestCandles({
      source: coinbase,
      sink,
      symbols: ["BTC-USD", "ETH-USD"],
      granularity: "ONE_HOUR",
      backfillBuckets: 400,
      nowMs: () => NOW_MS,
    });
    expect(first).toEqual([
      {
        symbol: "BTC-USD",
        ok: true,
        from: OPEN_BUCKET - 400 * HOUR,
        to: OPEN_BUCKET,
        fetched: 400,
        written: 400,
        gaps: [],
      },
      {
        symbol: "ETH-USD",
        ok: true,
        from: OPEN_BUCKET - 400 * HOUR,
        to: OPEN_BUCKET,
        fetched: 397,
        written: 397,
        gaps: [{ from: OPEN_BUCKET - 50 * HOUR, to: OPEN_BUCKET - 47 * HOUR, missing: 3 }],
      },
    ]);
    expect(await sink.latestCandleStart("BTC-USD", "ONE_HOUR")).toBe(OPEN_BUCKET - HOUR);
    expect([...sink.rows.values()].some((c) => c.start === OPEN_BUCKET)).toBe(false);

    clockMs = NOW_MS + 3 * HOUR * 1000;
    try {
      const second = await ingestCandles({
        source: coinbase,
        sink,
        symbols: ["BTC-USD"],
        granularity: "ONE_HOUR",
        nowMs: () => clockMs,
      });
      // three buckets closed since: the one that was open at NOW_MS and the next two
      expect(second[0]).toMatchObject({
        ok: true,
        from: OPEN_BUCKET,
        to: OPEN_BUCKET + 3 * HOUR,
        fetched: 3,
        written: 3,
      });
      const third = await ingestCandles({
        source: coinbase,
        sink,
        symbols: ["BTC-USD"],
        granularity: "ONE_HOUR",
        nowMs: () => clockMs,
      });
      expect(third[0]).toMatchObject({ ok: true, fetched: 0, written: 0 });
      expect(sink.rows.size).toBe(400 + 397 + 3);
    } finally {
      clockMs = NOW_MS;
    }
  });

  it("is idempotent: ingesting the same window twice leaves the same rows", async () => {
    const sink = new MemorySink();
    const run = () =>
      ingestCandles({
        source: coinbase,
        sink,
        symbols: ["SOL-USD"],
        granularity: "FIVE_MINUTE",
        nowMs: () => NOW_MS,
      });
    await run();
    const snapshot = new Map(sink.rows);
    const again = await ingestCandles({
      source: coinbase,
      sink: { putCandles: (c) => sink.putCandles(c), latestCandleStart: async () => undefined },
      symbols: ["SOL-USD"],
      granularity: "FIVE_MINUTE",
      nowMs: () => NOW_MS,
    });
    expect(again[0]).toMatchObject({ ok: true, fetched: 300, written: 300 });
    expect(sink.rows).toEqual(snapshot);
    expect(sink.rows.size).toBe(300);
  });

  it("reports one symbol's failure and carries on with the others", async () => {
    const sink = new MemorySink();
    const reports = await ingestCandles({
      source: coinbase,
      sink,
      symbols: ["NOPE-USD", "DOGE-USD"],
      granularity: "FIFTEEN_MINUTE",
      backfillBuckets: 10,
      nowMs: () => NOW_MS,
    });
    expect(reports[0]).toMatchObject({ symbol: "NOPE-USD", ok: false, fetched: 0 });
    expect((reports[0] as { error: string }).error).toMatch(
      /NOPE-USD FIFTEEN_MINUTE: .*HTTP 404.*Product NOPE-USD not supported/,
    );
    expect(reports[1]).toMatchObject({ symbol: "DOGE-USD", ok: true, fetched: 10, written: 10 });
  });

  it("works from replay files, catching up a bounded number of buckets per run", async () => {
    const sink = new MemorySink();
    const source: CandleSource = new ReplayCandleSource(SHARED_CANDLES);
    const endOfData = Date.UTC(2024, 6, 1); // first bucket after the development set
    const reports = await ingestCandles({
      source,
      sink,
      symbols: ["BTC-USD"],
      granularity: "ONE_HOUR",
      backfillBuckets: 24 * 365 * 7,
      maxBucketsPerRun: 24 * 30,
      nowMs: () => endOfData,
    });
    expect(reports[0]).toMatchObject({ ok: true, fetched: 720, written: 720, gaps: [] });
    expect([...sink.rows.values()].every((c) => c.source === "replay" && c.symbol === "BTC-USD")).toBe(true);
  });
});

describe("ingestCandles validates what it stores, per symbol", () => {
  const candle = (symbol: string, start: number, close = 101): Candle => ({
    symbol,
    granularity: "ONE_HOUR",
    start,
    open: 100,
    high: Math.max(102, close),
    low: 99,
    close,
    volume: 5,
    source: "replay",
  });
  /** a source that serves whatever the test gives each symbol */
  const sourceOf = (bySymbol: Record<string, (from: number) => Candle[]>): CandleSource => ({
    getCandles: async (productId, _granularity, from) => bySymbol[productId]!(from),
  });

  it("refuses a symbol whose source hands over an invalid candle, stores none of it, and goes on", async () => {
    const sink = new MemorySink();
    const reports = await ingestCandles({
      source: sourceOf({
        "AAA-USD": (from) => [
          candle("AAA-USD", from),
          candle("AAA-USD", from + HOUR, 0),
          candle("AAA-USD", from + 2 * HOUR),
        ],
        "BBB-USD": (from) => [candle("BBB-USD", from), candle("BBB-USD", from + HOUR)],
      }),
      sink,
      symbols: ["AAA-USD", "BBB-USD"],
      granularity: "ONE_HOUR",
      backfillBuckets: 3,
      nowMs: () => NOW_MS,
    });
    const from = OPEN_BUCKET - 3 * HOUR;
    expect(reports[0]).toMatchObject({ symbol: "AAA-USD", ok: false, written: 0 });
    expect((reports[0] as { error: string }).error).toBe(
      `AAA-USD ONE_HOUR: candle start=${from + HOUR} (${new Date((from + HOUR) * 1000).toISOString()}) from the source is invalid, nothing was stored for this symbol: close: Too small: expected number to be >0; candle high/low must bracket open and close`,
    );
    expect(reports[1]).toMatchObject({ symbol: "BBB-USD", ok: true, fetched: 2, written: 2 });
    expect([...sink.rows.values()].map((c) => c.symbol)).toEqual(["BBB-USD", "BBB-USD"]);
  });

  it("refuses candles of another series than the one asked for", async () => {
    const sink = new MemorySink();
    const [report] = await ingestCandles({
      source: sourceOf({ "AAA-USD": (from) => [candle("ZZZ-USD", from)] }),
      sink,
      symbols: ["AAA-USD"],
      granularity: "ONE_HOUR",
      backfillBuckets: 1,
      nowMs: () => NOW_MS,
    });
    expect(report).toMatchObject({ ok: false, written: 0 });
    expect((report as { error: string }).error).toMatch(/is for ZZZ-USD ONE_HOUR, not the series asked for/);
    expect(sink.rows.size).toBe(0);
  });

  it("one replay file with a zero price fails its symbol with file:line; the others are ingested", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ingest-replay-"));
    const first = OPEN_BUCKET - 3 * HOUR;
    const rows = (closeOfSecond: number) =>
      [
        "timestamp,open,high,low,close,volume",
        `${first},100,102,99,101,5`,
        `${first + HOUR},100,102,99,${closeOfSecond},5`,
        `${first + 2 * HOUR},100,102,99,101,5`,
      ].join("\n");
    writeFileSync(join(dir, "AAA-USDT_1h.csv"), rows(0));
    writeFileSync(join(dir, "BBB-USDT_1h.csv"), rows(101));
    const sink = new MemorySink();
    const reports = await ingestCandles({
      source: new ReplayCandleSource(dir),
      sink,
      symbols: ["AAA-USD", "BBB-USD"],
      granularity: "ONE_HOUR",
      backfillBuckets: 3,
      nowMs: () => NOW_MS,
    });
    expect(reports[0]).toMatchObject({ symbol: "AAA-USD", ok: false, written: 0 });
    expect((reports[0] as { error: string }).error).toContain(
      `AAA-USD ONE_HOUR: ${join(dir, "AAA-USDT_1h.csv")}:3: not a valid candle (close: Too small: expected number to be >0; candle high/low must bracket open and close) in row "${first + HOUR},100,102,99,0,5"`,
    );
    expect(reports[1]).toMatchObject({ symbol: "BBB-USD", ok: true, fetched: 3, written: 3 });
    expect([...sink.rows.values()].every((c) => c.symbol === "BBB-USD")).toBe(true);
  });
});
