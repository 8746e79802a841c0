/**
 * `npm run local`: the local cloud (DynamoDB and SQS, every table and queue), plus the local public
 * market data replaying the repository's candles, kept up until Ctrl-C. Other commands find it
 * through the state file (local/cloud-state.ts).
 */
import { existsSync } from "node:fs";
import { GRANULARITY_SECONDS } from "#domain/schemas.js";
import { SERVING_WINDOW } from "#features/index.js";
import { listCandleFiles, readCandleColumns } from "#market-data/replay.js";
import { closesNeededForVolatility } from "#risk/index.js";
import { startLocalCloud } from "./cloud.js";
import { cloudAnswers, type LocalCloudState, readCloudState, writeCloudState } from "./cloud-state.js";
import { type LocalMarket, replayShiftFor, startLocalMarket } from "./market-server.js";

/** Hours of history the functions need before they score (features, volatility), plus a day. */
export const WARMUP_HOURS =
  Math.max(SERVING_WINDOW, closesNeededForVolatility(GRANULARITY_SECONDS.ONE_HOUR)) + 24;

export interface LocalStack {
  state: Omit<LocalCloudState, "pid" | "startedAt">;
  market: LocalMarket;
  stop(): Promise<void>;
}

/**
 * The local public market data over a replay folder, on the wall clock (or `nowMs`), shifted so
 * that WARMUP_HOURS of history lie before now and the rest of the replay after it.
 */
export async function startReplayMarket(candlesDir: string, nowMs: () => number = Date.now) {
  if (!existsSync(candlesDir))
    throw new Error(
      `no candle folder ${candlesDir}: pass --candles <folder of <BASE>-<QUOTE>_1h.csv>, such as data/replay.`,
    );
  const firstStart = Math.max(
    ...listCandleFiles(candlesDir)
      .filter((f) => f.granularity === "ONE_HOUR")
      .map((f) => readCandleColumns(f.path).start[0] ?? 0),
  );
  if (!Number.isFinite(firstStart))
    throw new Error(`${candlesDir} holds no 1h candle file (<BASE>-<QUOTE>_1h.csv) to replay.`);
  const shiftSeconds = replayShiftFor(firstStart, Math.floor(nowMs() / 1000), WARMUP_HOURS);
  return startLocalMarket({ candlesDir, shiftSeconds, nowMs });
}

/** Starts DynamoDB, SQS and the replay market on free 127.0.0.1 ports; touches no process.env. */
export async function startLocalStack(options: { candlesDir: string; nowMs?: () => number }) {
  const market = await startReplayMarket(options.candlesDir, options.nowMs);
  let cloud: Awaited<ReturnType<typeof startLocalCloud>>;
  try {
    cloud = await startLocalCloud({ applyToProcessEnv: false });
  } catch (error) {
    await market.close();
    throw error;
  }
  const stack: LocalStack = {
    state: {
      dynamodbEndpoint: cloud.dynamodbEndpoint,
      sqsEndpoint: cloud.sqsEndpoint,
      marketUrl: market.baseUrl,
      env: cloud.env,
      tables: cloud.tables,
      queues: cloud.queues,
    },
    market,
    stop: async () => {
      await Promise.all([cloud.stop(), market.close()]);
    },
  };
  return stack;
}

export class LocalCloudAlreadyRunning extends Error {
  override readonly name = "LocalCloudAlreadyRunning";
}

/** Starts the stack and records it in `stateFile`; refuses when that file names a cloud that answers. */
export async function serveLocalCloud(options: { candlesDir: string; stateFile: string }) {
  const existing = readCloudState(options.stateFile);
  if (existing && (await cloudAnswers(existing))) {
    throw new LocalCloudAlreadyRunning(
      `a local cloud is already running (pid ${existing.pid}, DynamoDB ${existing.dynamodbEndpoint}, recorded in ${options.stateFile}): use it, or stop it with Ctrl-C in its terminal (kill ${existing.pid}) first.`,
    );
  }
  const stack = await startLocalStack({ candlesDir: options.candlesDir });
  const state: LocalCloudState = { pid: process.pid, startedAt: new Date().toISOString(), ...stack.state };
  writeCloudState(options.stateFile, state);
  return { ...stack, state };
}

/** What `npm run local` prints: the endpoints, what is replayed until when, and the lines to export. */
export function describeLocalCloud(state: LocalCloudState, market: LocalMarket, stateFile: string): string[] {
  const day = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 16).replace("T", " ");
  const shiftDays = Math.round(market.shiftSeconds / 86_400);
  return [
    `Local cloud up (pid ${state.pid}); state in ${stateFile}`,
    `  DynamoDB ${state.dynamodbEndpoint}  tables: ${Object.values(state.tables).join(", ")}`,
    `  SQS      ${state.sqsEndpoint}  queues: ${Object.keys(state.queues).join(", ")} (each with a dead-letter queue)`,
    `  Market   ${state.marketUrl}  Coinbase public market data for ${market.productIds.length} products, replayed from the repository's candles`,
    `           shifted ${shiftDays} days so that a full feature window lies before now; new hourly candles until ${day(market.lastCloseSec)} UTC`,
    "",
    "npm run invoke and npm start use this cloud while it runs. For other tools (aws CLI, scripts), export:",
    ...Object.entries({ ...state.env, COINBASE_API_BASE_URL: state.marketUrl }).map(
      ([k, v]) => `  export ${k}=${v}`,
    ),
    "",
    "Press Ctrl-C to stop it (its data lives in memory and goes with it).",
  ];
}
