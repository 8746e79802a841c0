import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type Candle,
  type EquitySnapshot,
  ExecutionRequest,
  type RiskRequest,
  RiskRequest as RiskRequestSchema,
} from "#domain/schemas.js";
import { fifoMessageFields } from "#queues/definitions.js";
import { drainQueue } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { silentLog } from "#runtime/log.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { assessRecommendation } from "#steps/assess-recommendation.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { recommendation } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { drainQueue as drainMessages, sqsRecord } from "#test/support/sqs.js";

const NOW = new Date("2024-06-30T12:01:00.000Z");
const SETTINGS = {
  limits: DEFAULT_RISK_LIMITS,
  granularity: "ONE_HOUR" as const,
  startingCashUsd: 10_000,
  maxSnapshotAgeMinutes: 15,
};

/** What the portfolio function writes: here a flat $10,000 account marked at `at`. */
function equitySnapshot(at: Date): EquitySnapshot {
  return {
    at: at.toISOString(),
    equityUsd: 10_000,
    cashUsd: 10_000,
    positionsValueUsd: 0,
    peakEquityUsd: 10_000,
    drawdownPct: 0,
    dayStartEquityUsd: 10_000,
    dailyPnlUsd: 0,
    dailyPnlPct: 0,
    tradesToday: 0,
  };
}

/** 20 days of hourly candles with a gentle oscillation (about 1% daily volatility). */
function hourlyCandles(symbol: string, price: number): Candle[] {
  const end = Math.floor(NOW.getTime() / 3_600_000) * 3600 - 3600;
  return Array.from({ length: 480 }, (_, i) => {
    const close = price * (1 + 0.002 * Math.sin(i / 3));
    return {
      symbol,
      granularity: "ONE_HOUR" as const,
      start: end - (479 - i) * 3600,
      open: close,
      high: close * 1.001,
      low: close * 0.999,
      close,
      volume: 100,
      source: "replay" as const,
    };
  });
}

async function validated(stores: Stores, id: string, overrides = {}) {
  await stores.recommendations.create(
    recommendation({ recommendationId: id, entryPrice: 60_000, ...overrides }),
  );
  await stores.recommendations.transition(id, "PENDING", "QUEUED", "test", NOW);
  await stores.recommendations.transition(id, "QUEUED", "VALIDATED", "LLM approved", NOW);
}

const request = (id: string): RiskRequest => ({
  schemaVersion: 1,
  type: "AssessRisk",
  recommendationId: id,
  symbol: "BTC-USD",
  sentAt: NOW.toISOString(),
});

describe("risk step on the local cloud", () => {
  let stores: Stores;
  let cloud: Awaited<ReturnType<typeof isolatedCloud>>;
  let deps: Parameters<typeof assessRecommendation>[0];
  beforeEach(async () => {
    cloud = await isolatedCloud("risk");
    stores = createStores(createDocumentClient());
    await stores.candles.putCandles(hourlyCandles("BTC-USD", 60_000));
    await stores.portfolio.putEquitySnapshot(equitySnapshot(new Date(NOW.getTime() - 60_000)));
    deps = {
      ...stores,
      sendToExecution: queueSender(cloud.queues.execution.url, "EXECUTION_QUEUE_URL"),
      log: silentLog,
    };
  });

  it("sizes a BUY to the drawdown budget: the open positions' risk to their stops leaves no room", async () => {
    await validated(stores, "r-budget");
    // $10,000 at the peak, floor $8,500: a position that loses $1,499.995 at its stop leaves half a cent, $0.50 of a 1% stop
    const held = {
      positionId: "rec-held",
      symbol: "ETH-USD",
      status: "OPEN" as const,
      entryPrice: 3000,
      entryQuantity: "1",
      quantity: "1",
      entryCostUsd: 3000,
      riskPerUnit: 1500,
      stopLoss: 1500.005,
      takeProfits: [],
      targetsHit: 0,
      highWaterMark: 3000,
      openedAt: NOW.toISOString(),
      evaluatedAt: NOW.toISOString(),
      exits: [],
      realizedPnlUsd: 0,
      version: 0,
    };
    const result = await assessRecommendation(
      { ...deps, managedPositions: { openPositions: async () => [held] } },
      SETTINGS,
      request("r-budget"),
      NOW,
    );
    expect(result.outcome).toBe("refused");
    expect((await stores.decisions.getRiskDecision("r-budget"))?.refusals.map((r) => r.reason)).toEqual([
      "DRAWDOWN_BUDGET",
    ]);
  });

  it("approves within limits: one decision, a reservation, RISK_APPROVED with stop/take, one execution message", async () => {
    await validated(stores, "r-ok");
    const result = await assessRecommendation(deps, SETTINGS, request("r-ok"), NOW);
    expect(result.outcome).toBe("approved");
    const rec = await stores.recommendations.get("r-ok");
    expect(rec).toMatchObject({ status: "RISK_APPROVED", approvedAmountUsd: 100 });
    expect(rec?.stopLoss).toBeLessThan(60_000);
    expect(rec?.takeProfit).toBeGreaterThan(60_000);
    expect(await stores.portfolio.reservations()).toHaveLength(1);
    expect(await stores.portfolio.approvalsOn("2024-06-30")).toBe(1);
    const raw = await drainMessages(cloud.queues.execution.url);
    const messages = raw.map((m) => ExecutionRequest.parse(m));
    expect(messages).toEqual([expect.objectContaining({ recommendationId: "r-ok", side: "BUY" })]);
    // ids only on the wire; the size lives in the stored decision the executor re-reads
    expect(Object.keys(raw[0] as object).sort()).toEqual(
      ["recommendationId", "schemaVersion", "sentAt", "side", "symbol", "type"].sort(),
    );
    expect((await stores.decisions.getRiskDecision("r-ok"))?.order).toEqual({
      symbol: "BTC-USD",
      side: "BUY",
      quoteSize: "100",
    });
  });

  it("duplicate and concurrent deliveries create one decision, one approval and one execution message", async () => {
    await validated(stores, "r-dup");
    await Promise.all([1, 2, 3].map(() => assessRecommendation(deps, SETTINGS, request("r-dup"), NOW)));
    expect(await drainMessages(cloud.queues.execution.url)).toHaveLength(1);
    // a later redelivery cannot tell a crash before the send from a plain duplicate: it re-sends the
    // same execution request (the executor is idempotent) but decides and approves nothing again
    const later = await assessRecommendation(deps, SETTINGS, request("r-dup"), NOW);
    expect(later.outcome).toBe("resent");
    expect(await stores.portfolio.approvalsOn("2024-06-30")).toBe(1);
    expect(await stores.portfolio.reservations()).toHaveLength(1);
    expect(
      (await stores.recommendations.get("r-dup"))?.history.filter((h) => h.to === "RISK_APPROVED"),
    ).toHaveLength(1);
  });

  it("approvals reserve exposure: the next recommendation sees it before the books do", async () => {
    // 5% of 10 000 = 500 per asset; four $150 BUYs of the same asset: the fourth is cut to the $50 left
    for (let i = 0; i < 4; i++) {
      await validated(stores, `r-res-${i}`, { amountUsd: 150, confidence: 0.9 });
      await assessRecommendation(deps, SETTINGS, request(`r-res-${i}`), NOW);
    }
    const amounts = [];
    for (let i = 0; i < 4; i++)
      amounts.push((await stores.decisions.getRiskDecision(`r-res-${i}`))?.adjustedAmountUsd);
    expect(amounts.slice(0, 3)).toEqual([150, 150, 150]);
    expect(amounts[3]).toBeCloseTo(50, 6);
  });

  it("refuses when the kill switch is on, with the reason, and sends nothing", async () => {
    await validated(stores, "r-kill");
    await stores.killSwitch.set(true, "ops", "maintenance", NOW);
    const result = await assessRecommendation(deps, SETTINGS, request("r-kill"), NOW);
    expect(result.outcome).toBe("refused");
    const rec = await stores.recommendations.get("r-kill");
    expect(rec?.status).toBe("REFUSED_BY_RISK");
    expect(rec?.statusReason).toMatch(/KILL_SWITCH_ACTIVE/);
    expect(await drainMessages(cloud.queues.execution.url)).toEqual([]);
  });
});

describe("risk step without a current equity snapshot (fail closed for entries, never for exits)", () => {
  let stores: Stores;
  let cloud: Awaited<ReturnType<typeof isolatedCloud>>;
  let deps: Parameters<typeof assessRecommendation>[0];
  beforeEach(async () => {
    cloud = await isolatedCloud("risk-stale");
    stores = createStores(createDocumentClient());
    await stores.candles.putCandles(hourlyCandles("BTC-USD", 60_000));
    deps = {
      ...stores,
      sendToExecution: queueSender(cloud.queues.execution.url, "EXECUTION_QUEUE_URL"),
      log: silentLog,
    };
  });

  it("refuses a BUY before the portfolio function wrote any snapshot, saying why and what to check", async () => {
    await validated(stores, "s-none");
    const result = await assessRecommendation(deps, SETTINGS, request("s-none"), NOW);
    expect(result.outcome).toBe("refused");
    const decision = await stores.decisions.getRiskDecision("s-none");
    expect(decision?.refusals).toEqual([
      {
        reason: "PORTFOLIO_STALE",
        detail: expect.stringMatching(/no equity snapshot yet.*portfolio function/),
      },
    ]);
    const rec = await stores.recommendations.get("s-none");
    expect(rec?.status).toBe("REFUSED_BY_RISK");
    expect(rec?.statusReason).toMatch(/^PORTFOLIO_STALE: no equity snapshot yet/);
    expect(await stores.portfolio.reservations()).toEqual([]);
    expect(await drainMessages(cloud.queues.execution.url)).toEqual([]);
  });

  it("refuses a BUY when the latest snapshot is older than the bound, naming its time, age and the bound", async () => {
    await stores.portfolio.putEquitySnapshot(equitySnapshot(new Date(NOW.getTime() - 47 * 60_000)));
    await validated(stores, "s-old");
    expect((await assessRecommendation(deps, SETTINGS, request("s-old"), NOW)).outcome).toBe("refused");
    const [refusal] = (await stores.decisions.getRiskDecision("s-old"))?.refusals ?? [];
    expect(refusal.reason).toBe("PORTFOLIO_STALE");
    expect(refusal.detail).toContain("from 2024-06-30T11:14:00.000Z, 47.0 minutes old");
    expect(refusal.detail).toContain("the 15-minute bound (RISK_MAX_SNAPSHOT_AGE_MINUTES)");
    // within the bound it approves
    await stores.portfolio.putEquitySnapshot(equitySnapshot(new Date(NOW.getTime() - 15 * 60_000)));
    await validated(stores, "s-fresh");
    expect((await assessRecommendation(deps, SETTINGS, request("s-fresh"), NOW)).outcome).toBe("approved");
  });

  it("still sells a held position when the snapshot is stale: an exit never waits for the portfolio", async () => {
    await stores.portfolio.putEquitySnapshot(equitySnapshot(new Date(NOW.getTime() - 6 * 3_600_000)));
    await stores.portfolio.putPosition({
      symbol: "BTC-USD",
      quantity: "0.01",
      averageEntryPrice: "58000",
      costBasisUsd: "580",
      realizedPnlUsd: "0",
      markPrice: "60000",
      marketValueUsd: "600",
      updatedAt: NOW.toISOString(),
    });
    await validated(stores, "s-sell", { side: "SELL" });
    const result = await assessRecommendation(deps, SETTINGS, request("s-sell"), NOW);
    expect(result.outcome).toBe("approved");
    const messages = (await drainMessages(cloud.queues.execution.url)).map((m) => ExecutionRequest.parse(m));
    expect(messages).toEqual([expect.objectContaining({ recommendationId: "s-sell", side: "SELL" })]);
  });
});

describe("SQS handling at the boundary", () => {
  const writes: string[] = [];
  beforeEach(() => {
    writes.length = 0;
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        writes.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("a malformed message is reported failed with a clear error, retried, then kept in the DLQ", async () => {
    const cloud = await isolatedCloud("sqs-bad");
    const sqs = new SQSClient({});
    const stores = createStores(createDocumentClient());
    const handler = sqsHandler({
      queue: "risk",
      schema: RiskRequestSchema,
      logger: new Logger({ serviceName: "risk-manager" }),
      process: (m) =>
        assessRecommendation(
          { ...stores, sendToExecution: async () => {}, log: silentLog },
          SETTINGS,
          m,
          NOW,
        ),
    });
    const url = cloud.queues.risk.url;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: '{"schemaVersion":2}',
        ...fifoMessageFields(url, "bad-1"),
      }),
    );
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: "not json", ...fifoMessageFields(url, "bad-2") }),
    );
    const result = await drainQueue(sqs, {
      queueUrl: cloud.queues.risk.url,
      queueArn: cloud.queues.risk.arn,
      handler,
      retryDelaySeconds: 0,
    });
    // both were retried before landing in the DLQ (local-aws-sqs moves a message once its receive
    // count reaches maxReceiveCount when its visibility expires; AWS moves it on the receive after)
    expect(result.failed).toBeGreaterThanOrEqual(2 * 2);
    expect((await drainMessages(cloud.queues.risk.deadLetterUrl)).length).toBe(2);
    const errors = writes.filter((w) => w.includes("message failed"));
    expect(errors.some((w) => w.includes("does not match its schema") && w.includes("schemaVersion"))).toBe(
      true,
    );
    expect(errors.some((w) => w.includes("is not JSON"))).toBe(true);
  });

  it("every log line of a record carries the recommendation id as correlation id", async () => {
    await isolatedCloud("sqs-corr");
    const logger = new Logger({ serviceName: "risk-manager" });
    const handler = sqsHandler({
      queue: "risk",
      schema: RiskRequestSchema,
      logger,
      process: async (m) => {
        logger.info("inside the domain call");
        return { seen: m.recommendationId };
      },
    });
    const body = JSON.stringify(request("rec-corr-1"));
    await handler({ Records: [sqsRecord(body, { messageId: "m-1", queue: "risk" })] });
    const lines = writes.flatMap((w) => w.split("\n")).filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(JSON.parse(line).correlationId).toBe("rec-corr-1");
  });
});
