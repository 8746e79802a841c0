/**
 * The deployed portfolio handler (paper venue) on the local cloud: an account holding a coin the
 * pipeline has no candles and the venue has no product for still gets its equity snapshot, and the
 * handler says so in its answer, in a structured warning and in the UnpricedAssets metric.
 */
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { recommendation } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { walkLifecycle } from "#test/support/steps.js";

describe("portfolio handler: a held coin that cannot be priced", () => {
  let fake: FakeCoinbase;
  const written: string[] = [];

  beforeAll(async () => {
    const cloud = await isolatedCloud("portfolio-handler");
    // the paper venue's product rules come from the (fake) public Coinbase endpoint, which lists no ATOM
    fake = await startFakeCoinbase();
    vi.stubEnv("COINBASE_API_BASE_URL", fake.baseUrl);
    vi.stubEnv("SYMBOLS", "BTC-USD");
    vi.stubEnv("TRADING_MODE", "paper");
    // an airdrop on the paper account: 3 ATOM beside the starting cash
    await createDocumentClient().send(
      new PutCommand({
        TableName: cloud.tables.portfolio,
        Item: {
          pk: "PAPER#BALANCE",
          sk: "ATOM",
          currency: "ATOM",
          available: "3",
          hold: "0",
          version: 0,
          recentOps: [],
        },
      }),
    );
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    }
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await fake.close();
  });

  it("writes the snapshot, lists ATOM as unpriced, warns and emits UnpricedAssets = 1", async () => {
    const { handler } = await import("#functions/portfolio/handler.js");
    const time = new Date().toISOString();
    const result = (await handler(
      {
        version: "0",
        id: "t-1",
        "detail-type": "Scheduled Event",
        source: "aws.scheduler",
        account: "123456789012",
        time,
        region: "us-east-1",
        resources: [],
        detail: {},
      },
      {} as never,
    )) as {
      snapshot: { at: string; equityUsd: number; unpricedAssets?: number };
      unpriced: { symbol: string; quantity: string; reason: string }[];
    };
    expect(result.snapshot).toMatchObject({ at: time, equityUsd: 10_000, unpricedAssets: 1 });
    expect(result.unpriced).toEqual([
      { symbol: "ATOM-USD", quantity: "3", reason: expect.stringMatching(/no ONE_HOUR candle stored/) },
    ]);

    const lines = written.flatMap((w) => w.split("\n")).filter((l) => l.startsWith("{"));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const warning = records.find((r) => String(r.message).includes("cannot be marked to market"));
    expect(warning).toMatchObject({ level: "WARN", symbol: "ATOM-USD", quantity: "3" });
    const metric = records.find((r) => "UnpricedAssets" in r);
    expect(metric).toMatchObject({ UnpricedAssets: 1, venue: "paper", service: "portfolio" });
    const aws = metric?._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
    const emf = aws.CloudWatchMetrics[0];
    expect(emf.Namespace).toBe("TradingPipeline");
    expect(emf.Metrics.map((m) => m.Name)).toEqual(["UnpricedAssets"]);
  });

  it("reports a recommendation stuck in EXECUTING: health check, answer, error log and StuckRecommendations = 1", async () => {
    const { handler } = await import("#functions/portfolio/handler.js");
    const stores = createStores(createDocumentClient());
    const hourAgo = new Date(Date.now() - 3_600_000);
    await stores.recommendations.create(
      recommendation({ recommendationId: "stuck-1", symbol: "BTC-USD", createdAt: hourAgo.toISOString() }),
    );
    await walkLifecycle(stores, "stuck-1", "EXECUTING", hourAgo);

    const health = (await handler({ action: "health" }, {} as never)) as {
      healthy: boolean;
      checks: Record<string, { ok: boolean; detail: string }>;
    };
    expect(health.healthy).toBe(false);
    expect(health.checks.executions).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/1 stuck EXECUTING.*resolve-stuck.*stuck-1/),
    });

    written.length = 0;
    const result = (await handler({ action: "run" }, {} as never)) as {
      stuck: { recommendationId: string }[];
    };
    expect(result.stuck).toEqual([
      expect.objectContaining({ recommendationId: "stuck-1", symbol: "BTC-USD" }),
    ]);
    const records = written
      .flatMap((w) => w.split("\n"))
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => "StuckRecommendations" in r)).toMatchObject({ StuckRecommendations: 1 });
    expect(records.find((r) => r.message === "recommendations stuck in EXECUTING")).toMatchObject({
      level: "ERROR",
    });
  });
});
