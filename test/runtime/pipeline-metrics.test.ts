/**
 * The metrics the functions emit (runtime/pipeline-metrics.ts), as CloudWatch sees them: each one
 * its own EMF blob in the TradingPipeline namespace with exactly its dimension, and every metric
 * the monitoring stack alarms on or charts among them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMetrics } from "#runtime/observability.js";
import {
  recordExecution,
  recordPositionCommand,
  recordPositionManager,
  recordReconcile,
  recordRiskOutcome,
} from "#runtime/pipeline-metrics.js";

type Blob = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
};

let written: string[] = [];
beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** Each EMF blob as [metric name, value, its dimensions beside service]. */
function emitted(): [string, unknown, Record<string, unknown>][] {
  const blobs = written
    .flatMap((w) => w.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Blob)
    .filter((b) => "_aws" in b);
  return blobs.map((b) => {
    const [directive] = b._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe("TradingPipeline");
    expect(directive.Metrics).toHaveLength(1);
    const name = directive.Metrics[0].Name;
    const dims = directive.Dimensions[0].filter((d) => d !== "service");
    return [name, b[name], Object.fromEntries(dims.map((d) => [d, b[d]]))];
  });
}

describe("pipeline metrics", () => {
  it("trade-executor: an executed entry reports each hop of its latency from candle close to order accepted", async () => {
    const metrics = createMetrics("trade-executor");
    const step = (to: string, at: string) => ({ from: "PENDING", to, at, reason: "r" }) as never;
    const rec = {
      side: "BUY" as const,
      entryPrice: 100,
      candleClosedAt: "2024-04-14T12:00:00.000Z",
      signalAt: "2024-04-14T12:00:02.000Z",
      history: [
        step("QUEUED", "2024-04-14T12:00:02.500Z"),
        step("VALIDATED", "2024-04-14T12:00:03.700Z"),
        step("RISK_APPROVED", "2024-04-14T12:00:03.900Z"),
        step("EXECUTING", "2024-04-14T12:00:04.000Z"),
        step("EXECUTED", "2024-04-14T12:00:04.250Z"),
      ],
    };
    await recordExecution(metrics, "paper", async () => rec, {
      outcome: "executed",
      order: { averageFilledPrice: "100" } as never,
    });
    const latency = emitted().filter(([name]) => name === "ChainLatencyMs");
    expect(latency).toEqual([
      ["ChainLatencyMs", 2000, { hop: "CandleToSignal" }],
      ["ChainLatencyMs", 500, { hop: "SignalToQueued" }],
      ["ChainLatencyMs", 1200, { hop: "QueuedToValidated" }],
      ["ChainLatencyMs", 200, { hop: "ValidatedToRiskDecided" }],
      ["ChainLatencyMs", 350, { hop: "RiskDecidedToOrderAccepted" }],
      ["ChainLatencyMs", 4250, { hop: "CandleToOrderAccepted" }],
    ]);
  });

  it("trade-executor: an exit (no candle, no LLM step) reports only the hops it has", async () => {
    const metrics = createMetrics("trade-executor");
    const rec = {
      side: "SELL" as const,
      entryPrice: 100,
      history: [
        { from: "RISK_APPROVED", to: "EXECUTING", at: "2024-04-14T12:00:04.000Z", reason: "r" },
        { from: "EXECUTING", to: "EXECUTED", at: "2024-04-14T12:00:04.250Z", reason: "r" },
      ] as never,
    };
    await recordExecution(metrics, "paper", async () => rec, {
      outcome: "executed",
      order: { averageFilledPrice: "100" } as never,
    });
    expect(emitted().filter(([name]) => name === "ChainLatencyMs")).toEqual([]);
  });

  it("trade-executor: an executed BUY counts the order and its slippage against the signal's price", async () => {
    const metrics = createMetrics("trade-executor");
    const order = { averageFilledPrice: "101" } as never;
    await recordExecution(metrics, "paper", async () => ({ side: "BUY", entryPrice: 100 }), {
      outcome: "executed",
      order,
    });
    await recordExecution(metrics, "paper", async () => undefined, {
      outcome: "failed",
      reason: "quote outside the band",
      priceRefusal: true,
    });
    await recordExecution(metrics, "paper", async () => undefined, {
      outcome: "message-refused",
      reason: "x",
    });
    expect(emitted()).toEqual([
      ["OrdersPlaced", 1, { venue: "paper" }],
      ["RecommendationsByState", 1, { state: "EXECUTED" }],
      ["SlippageBps", 100, { venue: "paper" }],
      ["RecommendationsByState", 1, { state: "FAILED" }],
      ["ExecutionPriceRefused", 1, {}],
      ["ExecutionMessageMismatch", 1, {}],
    ]);
  });

  it("risk-manager: a refusal counts each reason and the state; an approval only the state", () => {
    const metrics = createMetrics("risk-manager");
    const refusals = [
      { reason: "ASSET_CONCENTRATION", detail: "" },
      { reason: "KILL_SWITCH_ACTIVE", detail: "" },
    ];
    recordRiskOutcome(metrics, { outcome: "refused", decision: { refusals } as never });
    recordRiskOutcome(metrics, { outcome: "approved", decision: { refusals: [] } as never });
    recordRiskOutcome(metrics, { outcome: "resent", status: "RISK_APPROVED" });
    expect(emitted()).toEqual([
      ["RiskRefusals", 1, { reason: "ASSET_CONCENTRATION" }],
      ["RiskRefusals", 1, { reason: "KILL_SWITCH_ACTIVE" }],
      ["RecommendationsByState", 1, { state: "REFUSED_BY_RISK" }],
      ["RecommendationsByState", 1, { state: "RISK_APPROVED" }],
    ]);
  });

  it("portfolio: equity, drawdown and kill switch, then per-venue counts, 0 included but UnknownExposure", async () => {
    const metrics = createMetrics("portfolio");
    const report = {
      snapshot: { equityUsd: 9_500, drawdownPct: 5 },
      newFills: [{}, {}],
      unknownExposure: [],
      unpriced: [],
      managedPositions: [
        { kind: "opened" },
        { kind: "unprotected", positionId: "rec-x", symbol: "BTC-USD", reason: "no stop" },
      ],
    } as never;
    await recordReconcile(metrics, "coinbase", report, { killSwitchActive: async () => true, stuck: 0 });
    expect(emitted()).toEqual([
      ["EquityUsd", 9_500, {}],
      ["DrawdownPct", 5, {}],
      ["KillSwitchActive", 1, {}],
      ["OrderFills", 2, { venue: "coinbase" }],
      ["UnpricedAssets", 0, { venue: "coinbase" }],
      ["StuckRecommendations", 0, { venue: "coinbase" }],
      ["UnprotectedPositions", 1, { venue: "coinbase" }],
    ]);
  });

  it("position manager: exits per reason, then open positions, failed exits, positions not evaluated and positions awaiting an operator (0 included)", () => {
    const metrics = createMetrics("position-manager");
    recordPositionManager(metrics, {
      evaluated: 3,
      issued: [
        {
          exitId: "a",
          positionId: "p",
          symbol: "BTC-USD",
          label: "STOP_LOSS",
          baseSize: "1",
          triggerPrice: 1,
        },
        {
          exitId: "b",
          positionId: "q",
          symbol: "ETH-USD",
          label: "TAKE_PROFIT_1",
          baseSize: "1",
          triggerPrice: 1,
        },
      ],
      failedExits: [],
      resent: [],
      closedAsDust: [],
      awaitingOperator: [{ positionId: "s", symbol: "SOL-USD", exit: "STOP_LOSS", failedAttempts: 5 }],
      lostRaces: 0,
      errors: [{ positionId: "r", symbol: "SOL-USD", error: "no price" }],
      restingStopsPlaced: [],
      restingStopsCancelled: [],
      waitingOnRestingStop: [],
    });
    expect(emitted()).toEqual([
      ["ExitsIssued", 1, { reason: "STOP_LOSS" }],
      ["ExitsIssued", 1, { reason: "TAKE_PROFIT_1" }],
      ["OpenManagedPositions", 4, {}],
      ["ExitsFailed", 0, {}],
      ["PositionsNotEvaluated", 1, {}],
      ["PositionsAwaitingOperator", 1, {}],
    ]);
  });

  it("position manager's commands: ExitsIssued per reason for what an exit or exit-all issued at once, nothing for a list", () => {
    const metrics = createMetrics("position-manager");
    const issued = (positionId: string) => ({
      outcome: "requested" as const,
      positionId,
      symbol: "SOL-USD",
      issued: [
        {
          exitId: `exit-${positionId}-MANUAL`,
          positionId,
          symbol: "SOL-USD",
          label: "MANUAL",
          baseSize: "1",
          triggerPrice: 1,
        },
      ],
      pendingExits: [],
    });
    recordPositionCommand(metrics, { positions: [] });
    recordPositionCommand(metrics, issued("a"));
    recordPositionCommand(metrics, {
      results: [issued("b"), { outcome: "refused", positionId: "c", error: "closed" }],
    });
    expect(emitted()).toEqual([
      ["ExitsIssued", 1, { reason: "MANUAL" }],
      ["ExitsIssued", 1, { reason: "MANUAL" }],
    ]);
  });

  it("emits every metric the monitoring stack alarms on or charts", () => {
    const root = join(import.meta.dirname, "../..");
    const monitoring = readFileSync(join(root, "infra/stacks/monitoring-stack.ts"), "utf8");
    const read = new Set([
      ...[...monitoring.matchAll(/insights\("[A-Z]+\((\w+)\)"/g)].map((m) => m[1]),
      ...[...monitoring.matchAll(/search\("(\w+)"/g)].map((m) => m[1]),
    ]);
    expect(read.size).toBeGreaterThan(5);
    const source = readFileSync(join(root, "functions/shared/runtime/pipeline-metrics.ts"), "utf8");
    const missing = [...read].filter((name) => !source.includes(`"${name}"`));
    expect(missing).toEqual([]);
  });
});
