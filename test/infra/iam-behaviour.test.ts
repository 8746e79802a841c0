/**
 * IAM checked against behaviour. The app is synthesized and "deployed" onto the local cloud: every
 * Lambda and the validator's ECS task run their bundles in processes of their own, with the
 * environment their template gives them and credentials of their own. The pipeline then runs end
 * to end twice — candles → signals → recommendations → LLM validation (the ECS worker) → risk →
 * execution → portfolio → position manager — first buying on the paper venue (the portfolio opens a
 * managed position per filled entry), then, after the operator switched to live (TRADING_MODE=live:
 * the key comes from Secrets Manager, orders go to the fake Coinbase), selling what was bought: SELL
 * signals make the position manager issue SIGNAL exits; then every health check and the kill switch
 * (status, pause, resume).
 * Every AWS call is recorded on the wire with the key that signed it, and for each function:
 *  - its synthesized role allows every recorded action on that table, index, queue or secret;
 *  - every table, queue and secret its code used is named by its environment in the template
 *    (never a default name that `cdk deploy` does not create);
 *  - its role grants no table or queue it never used, and no write access to a table it only
 *    read, except grants kept for paths this run does not take (keptForPathsNotRun, with reasons).
 * The local cloud does not enforce IAM, so without this a missing grant shows up only in AWS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Recommendation } from "#domain/schemas.js";
import { RecommendationStatus } from "#domain/schemas.js";
import { cdkJsonContext } from "#infra/cli-context.js";
import {
  QUEUE_CONSUME_ACTIONS,
  QUEUE_SEND_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from "#infra/constructs/grants.js";
import { PIPELINE_FUNCTION_NAMES } from "#infra/function-catalog.js";
import { buildTradingSystem } from "#infra/trading-system.js";
import { provisionResources } from "#local/cloud.js";
import { readCandleColumns } from "#market-data/replay.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { TABLE_LIST } from "#store/tables.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { APRIL_CANDLES, APRIL_SYMBOLS, fakeProductAt } from "#test/e2e/support.js";
import type { SeriesCandle } from "#test/fakes/fake-coinbase/candles.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { type AwsCallRecorder, startAwsCallRecorder } from "#test/support/iam/aws-call-recorder.js";
import {
  type DeployedPipeline,
  scheduledEvent,
  startDeployedPipeline,
} from "#test/support/iam/deployed-pipeline.js";
import {
  namesNotFromEnvironment,
  ownerOf,
  unattributedCalls,
  ungrantedCalls,
  unusedGrants,
  unusedWriteAccess,
} from "#test/support/iam/findings.js";
import {
  deployLocally,
  type LocalDeployment,
  type PrincipalName,
  VALIDATOR,
} from "#test/support/iam/local-deployment.js";

const REGION = "us-east-1";
const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
const HOUR = 3600;
/** The replayed bucket that is the newest closed one in the first round: the shipped model says BUY (P(up) > 0.6) for five symbols. */
const REPLAY_FIRST_BUCKET = Date.UTC(2024, 3, 14, 11) / 1000;
/** The second round runs live: what the operator changes with `cdk deploy -c tradingMode=live` (only these two read it). */
const LIVE = { TRADING_MODE: "live" };
const testKey = es256TestKey();
/** The second round sells everything held: any P(down) is a SELL signal, which the position manager acts on. */
const SELL_EVERYTHING = { SIGNAL_BUY_THRESHOLD: "0.99", SIGNAL_SELL_THRESHOLD: "0.01" };

/**
 * Grants this run does not exercise, kept on purpose: principal -> table/queue -> why. Every other
 * table or queue a role grants must be used by its function in the run.
 */
function keptForPathsNotRun(local: LocalDeployment): Partial<Record<PrincipalName, Record<string, string>>> {
  const table = (id: keyof typeof tables) => local.arnOf({ kind: "table", name: tables[id] });
  return {
    "trade-executor": {
      [table("decisions")]:
        "the executor re-reads the approved risk decision (GetItem) instead of trusting the message (issue 12, item 1)",
    },
    portfolio: {
      [table("recommendations")]:
        "the portfolio reports recommendations stuck in EXECUTING (Query on byStatus, GetItem; issue 12)",
    },
  };
}

let outdir: string;
let coinbase: FakeCoinbase;
let ollama: FakeOllama;
let recorder: AwsCallRecorder;
let local: LocalDeployment;
let pipeline: DeployedPipeline;
let stores: ReturnType<typeof createStores>;
let tables: Record<(typeof TABLE_LIST)[number]["id"], string>;

/** The April replay, moved in time so that its candles close now: the fake Coinbase serves them. */
function shiftedReplay(shiftSeconds: number) {
  const series = new Map<string, Map<number, SeriesCandle>>();
  for (const symbol of APRIL_SYMBOLS) {
    const cols = readCandleColumns(path.join(APRIL_CANDLES, `${symbol.replace("-USD", "-USDT")}_1h.csv`));
    const byStart = new Map<number, SeriesCandle>();
    for (let i = 0; i < cols.length; i++) {
      byStart.set(cols.start[i] + shiftSeconds, {
        start: cols.start[i] + shiftSeconds,
        open: cols.open[i],
        high: cols.high[i],
        low: cols.low[i],
        close: cols.close[i],
        volume: cols.volume[i],
      });
    }
    series.set(symbol, byStart);
  }
  const products = APRIL_SYMBOLS.map((productId) => {
    const close = series.get(productId)!.get(REPLAY_FIRST_BUCKET + shiftSeconds)!.close;
    return fakeProductAt(productId, close);
  });
  // the live account holds some of every symbol (about $500 worth), so the live round can sell
  const balances: Record<string, string> = { USD: "10000" };
  for (const p of products) balances[p.productId.split("-")[0]] = String(Math.ceil(500 / Number(p.price)));
  return {
    products,
    balances,
    candles: (productId: string, granularity: string, start: number) =>
      granularity === "ONE_HOUR" ? series.get(productId)?.get(start) : undefined,
  };
}

async function recommendationsByStatus(): Promise<Map<string, Recommendation[]>> {
  const out = new Map<string, Recommendation[]>();
  for (const status of RecommendationStatus.options) {
    out.set(
      status,
      await stores.recommendations.byStatusCreatedBetween(status, new Date(0), new Date("2100-01-01")),
    );
  }
  return out;
}

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), "iam-behaviour-"));
  // bundling is skipped: the check needs the templates, not the assets
  const app = new App({ context: { ...cdkJsonContext(), "aws:cdk:bundling-stacks": [] }, outdir });
  const system = buildTradingSystem(app);

  // Round one runs while the market is two hours behind (its newest closed candle is the replay's
  // 11:00 bucket); round two, with the market caught up, has the next candle.
  const currentHour = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const replay = shiftedReplay(currentHour - 2 * HOUR - REPLAY_FIRST_BUCKET);
  let marketLagMs = 2 * HOUR * 1000;
  [coinbase, ollama] = await Promise.all([
    startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      products: replay.products,
      balances: replay.balances,
      candles: replay.candles,
      nowMs: () => Date.now() - marketLagMs,
    }),
    startFakeOllama({ defaultBehaviour: "approve" }),
  ]);
  const endpoints = inject("localCloud");
  const prefix = `iam-${Math.random().toString(36).slice(2, 8)}`;
  const resources = await provisionResources(endpoints, prefix);
  tables = resources.tables;
  const secretArn = `arn:aws:secretsmanager:${REGION}:123456789012:secret:${prefix}-coinbase-AbCdEf`;
  recorder = await startAwsCallRecorder({
    upstream: { dynamodb: endpoints.dynamodbEndpoint, sqs: endpoints.sqsEndpoint },
    secrets: { [secretArn]: JSON.stringify({ name: testKey.name, privateKey: testKey.sec1Pem }) },
  });
  local = deployLocally(system, {
    region: REGION,
    tables: resources.tables,
    queues: resources.queues,
    endpoint: recorder.endpoint,
    secretArn,
  });
  stores = createStores(
    createDocumentClient({
      endpoint: endpoints.dynamodbEndpoint,
      region: REGION,
      credentials: { accessKeyId: "harness", secretAccessKey: "local" },
    }),
    Object.fromEntries(TABLE_LIST.map((t) => [t.envVar, resources.tables[t.id]])),
  );
  pipeline = await startDeployedPipeline({
    local,
    endpoint: recorder.endpoint,
    upstreamSqs: endpoints.sqsEndpoint,
    region: REGION,
    overrides: {
      COINBASE_API_BASE_URL: coinbase.baseUrl,
      OLLAMA_HOST: ollama.host,
      OLLAMA_TIMEOUT_MS: "10000",
      SYMBOLS: APRIL_SYMBOLS.join(","),
      MODEL_PATH: path.join(REPO_ROOT, "models", "signal-model.onnx"),
      MODEL_CARD_PATH: path.join(REPO_ROOT, "models", "signal-model.card.json"),
      LOG_LEVEL: "WARN",
      POWERTOOLS_LOG_LEVEL: "WARN",
    },
  });

  // the portfolio runs every minute in AWS, so the risk manager always has a recent equity snapshot
  const round = async () => {
    const event = scheduledEvent(new Date(), REGION, local.deployment.account);
    await pipeline.invoke("portfolio", "schedule", event);
    await pipeline.invoke("market-data", "schedule", event);
    await pipeline.invoke("signal-generator", "schedule", event);
    await pipeline.invoke("signal-bridge", "schedule", event);
    await pipeline.waitUntilEmpty(resources.queues.validation.url);
    await pipeline.runEventSource("risk-manager");
    await pipeline.runEventSource("trade-executor");
    await pipeline.invoke("portfolio", "schedule", event);
    // the position manager runs every minute: on paper it watches the new positions, live it sells
    await pipeline.invoke("position-manager", "schedule", event);
    await pipeline.runEventSource("trade-executor");
    await pipeline.invoke("portfolio", "schedule", event);
  };
  await round(); // buys on paper
  marketLagMs = 0;
  await Promise.all([
    pipeline.redeploy("signal-generator", SELL_EVERYTHING),
    pipeline.redeploy("trade-executor", LIVE),
    pipeline.redeploy("portfolio", LIVE),
    pipeline.redeploy("position-manager", LIVE),
  ]);
  await round(); // sells, live
  for (const name of PIPELINE_FUNCTION_NAMES) await pipeline.invoke(name, "health", { action: "health" });
  await pipeline.invoke("kill-switch", "status", { action: "status" });
  await pipeline.invoke("kill-switch", "pause", {
    action: "pause",
    by: "iam-test",
    reason: "pause for the IAM check",
  });
  await pipeline.invoke("kill-switch", "resume", {
    action: "resume",
    by: "iam-test",
    reason: "resume after the IAM check",
  });
}, 300_000);

afterAll(async () => {
  await pipeline?.stop();
  await Promise.all([recorder?.close(), coinbase?.close(), ollama?.close()]);
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe("IAM against behaviour: the pipeline deployed from the synthesized templates, run on the local cloud", () => {
  it("grants every function (and the validator task) each AWS call it made, on that exact table, index, queue or secret", () => {
    expect(unattributedCalls(recorder.calls, local)).toEqual([]);
    expect(ungrantedCalls(recorder.calls, local)).toEqual([]);
  });

  it("names every table, queue and secret a function uses in its environment in the template, never by a default name", () => {
    expect(namesNotFromEnvironment(recorder.calls, local)).toEqual([]);
  });

  it("grants no function a table or queue it never uses (least privilege), except the grants kept on purpose", () => {
    expect(unusedGrants(recorder.calls, local, keptForPathsNotRun(local))).toEqual([]);
    expect(unusedWriteAccess(recorder.calls, local, {})).toEqual([]);
  });

  it("the shared grants (infra/constructs/grants.ts) hold only actions the functions' code issues", () => {
    const issued = new Set(recorder.calls.map((c) => c.action));
    const keptForPathsNotRun: Record<string, string> = {
      "sqs:ChangeMessageVisibility":
        "the validator's poller hands a failed message back early (poller.ts); no validation fails in this run",
    };
    const granted = [
      ...TABLE_READ_ACTIONS,
      ...TABLE_WRITE_ACTIONS,
      ...QUEUE_SEND_ACTIONS,
      ...QUEUE_CONSUME_ACTIONS,
    ];
    expect(granted.filter((a) => !issued.has(a) && !(a in keptForPathsNotRun))).toEqual([]);
  });

  it("ran the whole chain, so the checks above saw every function's real work", async () => {
    expect(pipeline.failures.map((f) => `${f.principal} (${f.step}): ${f.message.split("\n")[0]}`)).toEqual(
      [],
    );
    const byStatus = await recommendationsByStatus();
    const executed = byStatus.get("EXECUTED") ?? [];
    expect(executed.filter((r) => r.side === "BUY").length, "BUYs executed").toBeGreaterThan(0);
    expect(executed.filter((r) => r.side === "SELL").length, "SELLs executed").toBeGreaterThan(0);
    // both venues placed orders: the paper round and the live round each ran the executor's real work
    const orders = await Promise.all(executed.map((r) => stores.orders.getOrder(r.clientOrderId ?? "")));
    const placed = orders.map((o) => `${o?.venue} ${o?.side}`);
    expect(placed).toContain("paper BUY");
    expect(placed).toContain("coinbase SELL");
    expect((await stores.portfolio.latestEquitySnapshot())?.equityUsd).toBeGreaterThan(0);
    expect((await stores.killSwitch.get()).active).toBe(false);
    expect(ollama.chatRequests().length).toBeGreaterThan(0);
    // the live round signed its orders with the key from Secrets Manager
    const sells = coinbase.requests.filter((r) => r.method === "POST" && r.path.endsWith("/orders"));
    expect(sells.length).toBeGreaterThan(0);
    expect(coinbase.requests.filter((r) => r.status === 401)).toEqual([]);
    const secretReaders = recorder.calls
      .filter((c) => c.action === "secretsmanager:GetSecretValue" && c.status === 200)
      .map((c) => c.principal);
    expect([...new Set(secretReaders)].sort()).toEqual(["portfolio", "position-manager", "trade-executor"]);
    // the live round's sells are exits the position manager issued on SELL signals, and the stops
    // it rested on the venue for the positions (EXIT_RESTING_STOP), cancelled before those sells
    const exits = executed.filter((r) => r.side === "SELL");
    expect(exits.filter((r) => !r.exit?.resting).every((r) => r.exit?.reason === "SIGNAL")).toBe(true);
    expect(exits.some((r) => r.exit?.resting)).toBe(true);
    expect(coinbase.requests.some((r) => r.path.endsWith("/orders/batch_cancel"))).toBe(true);
    const positions = await stores.managedPositions.allPositions();
    expect(positions.filter((p) => p.status === "CLOSED").length).toBeGreaterThan(0);
    const principals = new Set(recorder.calls.map((c) => ownerOf(c).name));
    expect([...principals].sort()).toEqual([...PIPELINE_FUNCTION_NAMES, VALIDATOR].sort());
    const failedCalls = recorder.calls.filter(
      (c) => c.status >= 400 && c.errorType !== "ConditionalCheckFailedException",
    );
    expect(failedCalls).toEqual([]);
  });
});
