import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTerminal } from "#domain/recommendation-lifecycle.js";
import type { Recommendation } from "#domain/schemas.js";
import { RecommendationStatus } from "#domain/schemas.js";
import { summarizeRun } from "#local/summary.js";
import type { Stores } from "#store/dynamo/index.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { APRIL_FROM, APRIL_TO, aprilPipeline, queueDepth } from "./support.js";

async function allRecommendations(stores: Stores): Promise<Recommendation[]> {
  const out: Recommendation[] = [];
  for (const status of RecommendationStatus.options) {
    out.push(
      ...(await stores.recommendations.byStatusCreatedBetween(status, new Date(0), new Date("2100-01-01"))),
    );
  }
  return out;
}

describe("the whole pipeline on the local cloud, paper venue: candles → signals → recommendations → LLM → risk → orders → portfolio", () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama();
  });
  afterAll(async () => {
    await ollama.close();
  });

  it("an approving LLM: confident BUY signals end EXECUTED on the paper exchange and show up in positions and equity", async () => {
    const cloud = await isolatedCloud("e2e-paper");
    ollama.reset();
    ollama.setDefault("approve");
    const pipeline = await aprilPipeline(cloud, { ollamaHost: ollama.host });
    const cycles = await pipeline.run();
    expect(cycles).toHaveLength(6);
    // each cycle ran as deployed: CandlesClosed → signals → SignalsWritten → bridge, on the bus
    const published = pipeline.bus.published.map((e) => e.type);
    expect(published.filter((t) => t === "CandlesClosed")).toHaveLength(6);
    expect(published.filter((t) => t === "SignalsWritten")).toHaveLength(6);
    expect(published.filter((t) => t === "RecommendationQueued")).toHaveLength(
      cycles.reduce((n, c) => n + c.queued, 0),
    );

    const summary = await summarizeRun(pipeline.stores, APRIL_FROM, APRIL_TO);
    expect(summary.signalsByType.BUY).toBeGreaterThan(0);
    expect(summary.signalsByType.BUY + summary.signalsByType.SELL + summary.signalsByType.HOLD).toBe(36);
    const recs = await allRecommendations(pipeline.stores);
    expect(recs.length).toBeGreaterThan(0);
    // the bridge sends at most 3 per cycle; with an approving LLM and room in every limit they all execute
    expect(summary.recommendationsByState.EXECUTED).toBeGreaterThan(0);
    expect(ollama.chatRequests().length).toBe(
      recs.filter((r) => r.history.some((h) => h.to === "VALIDATED" || h.to === "REJECTED_BY_LLM")).length,
    );
    for (const order of summary.orders) {
      expect(order.venue).toBe("paper");
      expect(order.status).toBe("FILLED");
      expect(Number(order.totalFees)).toBeGreaterThan(0);
    }
    expect(summary.fills.length).toBeGreaterThanOrEqual(summary.orders.length);
    // one clock: a fill carries the replay time of the cycle that placed its order, as the order does
    for (const fill of summary.fills) {
      const order = summary.orders.find((o) => o.clientOrderId === fill.clientOrderId);
      expect(fill.tradeTime).toBe(order?.createdAt);
    }
    expect(summary.positions.length).toBeGreaterThan(0);
    // fees were paid, so equity moved away from the starting cash, and cash went down by what was bought
    expect(summary.equity?.cashUsd).toBeLessThan(10_000);
    for (const rec of recs) {
      if (rec.status === "EXECUTED") {
        expect(rec.approvedAmountUsd).toBeLessThanOrEqual(100);
        expect(rec.stopLoss).toBeLessThan(rec.entryPrice);
        expect(rec.takeProfit).toBeGreaterThan(rec.entryPrice);
      }
      // nothing lost: every recommendation is terminal with a reason, or still on its way (PENDING/QUEUED by the window)
      if (isTerminal(rec.status)) expect(rec.statusReason.length).toBeGreaterThan(0);
      else expect(["PENDING", "QUEUED"]).toContain(rec.status);
    }
    for (const q of Object.values(cloud.queues)) expect(await queueDepth(q.deadLetterUrl)).toBe(0);
  });

  it("the first cycle snapshots the portfolio before its first risk decision, so its entries are sized, not refused as stale", async () => {
    const cloud = await isolatedCloud("e2e-first-cycle");
    ollama.reset();
    ollama.setDefault("approve");
    // start at the cycle where the first recommendations appear: nothing ran before it
    const pipeline = await aprilPipeline(cloud, {
      ollamaHost: ollama.host,
      from: new Date("2024-04-14T12:00:00Z"),
    });
    const [first] = await pipeline.run();
    expect(first).toMatchObject({ at: "2024-04-14T12:01:00.000Z", risk: 3, executed: 3 });
    for (const rec of await allRecommendations(pipeline.stores)) {
      const decision = await pipeline.stores.decisions.getRiskDecision(rec.recommendationId);
      expect(decision?.refusals.map((r) => r.reason) ?? []).not.toContain("PORTFOLIO_STALE");
    }
    // the peak starts at the starting cash, as the first snapshot saw it before any fee was paid
    expect((await summarizeRun(pipeline.stores, APRIL_FROM, APRIL_TO)).equity?.peakEquityUsd).toBe(10_000);
  });

  it("a rejecting LLM: recommendations end REJECTED_BY_LLM with the model's reasoning and no order is placed", async () => {
    const cloud = await isolatedCloud("e2e-reject");
    ollama.reset();
    ollama.setDefault({ kind: "reject", reasoning: "post-crash bounce, too risky" });
    const pipeline = await aprilPipeline(cloud, { ollamaHost: ollama.host });
    await pipeline.run();
    const summary = await summarizeRun(pipeline.stores, APRIL_FROM, APRIL_TO);
    expect(summary.recommendationsByState.REJECTED_BY_LLM).toBeGreaterThan(0);
    expect(summary.recommendationsByState.EXECUTED).toBeUndefined();
    expect(summary.orders).toEqual([]);
    const rejected = (await allRecommendations(pipeline.stores)).filter(
      (r) => r.status === "REJECTED_BY_LLM",
    );
    for (const r of rejected) expect(r.statusReason).toContain("post-crash bounce");
  });

  it("an LLM that keeps failing approves nothing: recommendations stay QUEUED and their messages end in the DLQ", async () => {
    const cloud = await isolatedCloud("e2e-llm-down");
    ollama.reset();
    ollama.setDefault("busy");
    const pipeline = await aprilPipeline(cloud, { ollamaHost: ollama.host });
    await pipeline.run();
    const recs = await allRecommendations(pipeline.stores);
    const queued = recs.filter((r) => r.status === "QUEUED");
    expect(queued.length).toBeGreaterThan(0);
    expect(recs.filter((r) => ["VALIDATED", "RISK_APPROVED", "EXECUTED"].includes(r.status))).toEqual([]);
    expect(await queueDepth(cloud.queues.validation.deadLetterUrl)).toBe(queued.length);
    expect(await pipeline.stores.decisions.getValidation(queued[0].recommendationId)).toBeUndefined();
  });

  it("without any LLM the bridge still queues and nothing moves past QUEUED (the main job's no-Ollama path)", async () => {
    const cloud = await isolatedCloud("e2e-no-llm");
    const pipeline = await aprilPipeline(cloud, {});
    await pipeline.run();
    const recs = await allRecommendations(pipeline.stores);
    expect(recs.some((r) => r.status === "QUEUED")).toBe(true);
    expect(recs.every((r) => ["PENDING", "QUEUED", "EXPIRED"].includes(r.status))).toBe(true);
    expect(await queueDepth(cloud.queues.validation.url)).toBeGreaterThan(0);
  });
});
