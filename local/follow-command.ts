/**
 * The setup of `npm start -- --follow` (local/follow.ts runs the cycles): where candles come from,
 * which clock, which cloud, the model, the LLM and the venue; then the run, one status line per
 * cycle, and on stop a summary and what is left in the queues.
 *
 * Candles:
 * - default: Coinbase's public candles endpoint at COINBASE_API_BASE_URL, on the wall clock;
 * - `--speed N`: the replay files in --candles, N times faster than real time (60: an hour a
 *   minute), from --from or from the first hour with a full feature window;
 * - `--candles-url URL`: that Coinbase-protocol endpoint (a fake, `npm run local`'s market), on the
 *   wall clock, or from --from at --speed.
 */
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { GRANULARITY_SECONDS } from "#domain/schemas.js";
import { checkOllamaHealth } from "#llm/index.js";
import type { CandleSource } from "#market-data/ingest.js";
import { listCandleFiles, ReplayCandleSource, readCandleColumns } from "#market-data/replay.js";
import { loadSignalModel } from "#model/index.js";
import type { Log } from "#runtime/log.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { sharedDocumentClient } from "#store/dynamo/client.js";
import { createStores } from "#store/dynamo/index.js";
import { type UsedLocalCloud, useOrStartLocalCloud } from "./cloud-connection.js";
import { WARMUP_HOURS } from "./cloud-server.js";
import { type FollowClock, type FollowResult, follow, formatCycleStatus, scaledClock } from "./follow.js";
import { createLocalPipeline } from "./pipeline.js";
import { pipelineOptionsFromConfig } from "./pipeline-from-config.js";
import { formatSummary, summarizeRun } from "./summary.js";
import { LocalRunRefused, type LocalTrading } from "./trading-mode.js";

const INTERVAL = GRANULARITY_SECONDS.ONE_HOUR;
const CYCLE_DELAY_SECONDS = 60;

export interface FollowArgs {
  candles: string;
  symbols?: string;
  speed?: string;
  from?: string;
  "candles-url"?: string;
  cycles?: string;
  verbose: boolean;
  "ollama-host"?: string;
  "ollama-model"?: string;
}

interface CandlePlan {
  source: CandleSource;
  dataSource: "coinbase" | "replay";
  /** one line for the header */
  description: string;
  symbols: string[];
  /** the run's clock, started when the first cycle is due (not while the model loads) */
  startClock(): FollowClock;
  lastCloseMs?: number;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!(value > 0 && Number.isFinite(value)))
    throw new LocalRunRefused(`--${flag} must be a positive number, got ${text}`);
  return value;
}

function instant(flag: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new LocalRunRefused(`--${flag} ${text} is not a date: use ISO 8601, e.g. 2024-04-01T00:00:00Z`);
  return ms;
}

/** Where candles come from and how the clock runs; refuses what cannot work, before anything starts. */
export function planCandles(args: FollowArgs, trading: LocalTrading, wallNow = Date.now()): CandlePlan {
  const speed = args.speed === undefined ? undefined : positiveNumber("speed", args.speed);
  const from = args.from === undefined ? undefined : instant("from", args.from);
  if (from !== undefined && from > wallNow)
    throw new LocalRunRefused(`--from ${args.from} is in the future: no candle has closed there yet`);
  const wanted = args.symbols
    ?.split(",")
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const configured = trading.config.SYMBOLS.length > 0 ? [...trading.config.SYMBOLS] : undefined;

  const url = args["candles-url"] ?? (speed === undefined ? trading.config.COINBASE_API_BASE_URL : undefined);
  if (url !== undefined) {
    if (speed !== undefined && speed !== 1 && from === undefined)
      throw new LocalRunRefused(
        `--speed ${args.speed} with candles from ${url} runs ahead of real time: add --from <date in the past>, or drop --candles-url to replay ${args.candles}`,
      );
    const symbols = wanted ?? configured ?? replayProducts(args.candles);
    return {
      source: new CoinbaseMarketData({ baseUrl: url }),
      dataSource: "coinbase",
      description: `Coinbase public candles at ${url}`,
      symbols,
      startClock: () => scaledClock(from ?? Date.now(), speed ?? 1),
    };
  }

  const files = hourlyFiles(args.candles);
  const chosen = wanted ? files.filter((f) => wanted.includes(f.productId)) : files;
  if (wanted && chosen.length !== wanted.length) {
    const known = files.map((f) => f.productId).join(", ");
    throw new LocalRunRefused(
      `--symbols ${args.symbols}: not all are in ${args.candles} (available: ${known})`,
    );
  }
  const spans = chosen.map((f) => {
    const cols = readCandleColumns(f.path);
    return { first: cols.start[0]!, last: cols.start[cols.length - 1]! };
  });
  const firstFull = (Math.max(...spans.map((s) => s.first)) + WARMUP_HOURS * INTERVAL) * 1000;
  const lastCloseMs = (Math.min(...spans.map((s) => s.last)) + INTERVAL) * 1000;
  const start = from ?? firstFull;
  if (start >= lastCloseMs)
    throw new LocalRunRefused(
      `--from ${args.from} is after the last candle in ${args.candles} (${new Date(lastCloseMs).toISOString()})`,
    );
  return {
    source: new ReplayCandleSource(args.candles),
    dataSource: "replay",
    description: `replay of ${args.candles} at ${speed}x (until ${new Date(lastCloseMs).toISOString()})`,
    symbols: chosen.map((f) => f.productId),
    startClock: () => scaledClock(start, speed!),
    lastCloseMs,
  };
}

function hourlyFiles(dir: string) {
  let files: ReturnType<typeof listCandleFiles>;
  try {
    files = listCandleFiles(dir).filter((f) => f.granularity === "ONE_HOUR");
  } catch (error) {
    throw new LocalRunRefused(
      `cannot read the candle folder ${dir}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  if (files.length === 0) throw new LocalRunRefused(`no 1h candle files (<BASE>-<QUOTE>_1h.csv) in ${dir}`);
  return files;
}

function replayProducts(dir: string): string[] {
  return hourlyFiles(dir).map((f) => f.productId);
}

/** Runs until stopped; resolves to the exit code. */
export async function runFollowCommand(options: {
  args: FollowArgs;
  trading: LocalTrading;
  repoRoot: string;
  say(line?: string): void;
}): Promise<number> {
  const { args, trading, say } = options;
  const config = trading.config;
  const plan = planCandles(args, trading);
  const maxCycles = args.cycles === undefined ? undefined : positiveNumber("cycles", args.cycles);
  const quiet: Log = {
    debug() {},
    info: (m, ...x) => args.verbose && console.error(m, ...x),
    warn: (m, ...x) => args.verbose && console.error(m, ...x),
    error: (m, ...x) => console.error(m, ...x),
  };

  const cloud: UsedLocalCloud = await useOrStartLocalCloud(options.repoRoot);
  say(`Local cloud: ${cloud.description}`);
  say(`  DynamoDB ${cloud.dynamodbEndpoint}  SQS ${cloud.sqsEndpoint}`);
  try {
    const model = await loadSignalModel(config.MODEL_PATH, config.MODEL_CARD_PATH);
    say(`Model: ${model.name} ${model.version} (${model.featureCount} features)`);
    const ollamaHost = args["ollama-host"] ?? config.OLLAMA_HOST;
    const ollamaModel = args["ollama-model"] ?? config.OLLAMA_MODEL;
    const health = await checkOllamaHealth(ollamaHost, ollamaModel, 3_000);
    const llmReady = health.reachable && health.modelPresent;
    say(
      llmReady
        ? `LLM: ${ollamaModel} at ${ollamaHost}`
        : `LLM: NOT AVAILABLE (${health.message}); recommendations stay QUEUED until it answers`,
    );

    const failures = new Map<string, string>();
    const source = recordingFailures(plan.source, failures);
    const stores = createStores();
    let cycleAt = new Date();
    const venue = await createVenue(config, {
      db: sharedDocumentClient(),
      portfolioTable: cloud.tables.portfolio,
      candles: stores.candles,
      granularity: "ONE_HOUR",
      rules: bundledRules(),
      // paper fills are stamped with the cycle's time, the clock of everything else in the run
      now: () => cycleAt,
    });
    const pipeline = createLocalPipeline(cloud, {
      candlesDir: args.candles,
      source,
      dataSource: plan.dataSource,
      symbols: plan.symbols,
      from: cycleAt,
      to: cycleAt,
      model,
      ...pipelineOptionsFromConfig({
        config,
        venue,
        symbols: plan.symbols,
        llm: llmReady ? { host: ollamaHost, model: ollamaModel } : undefined,
        log: quiet,
        verbose: args.verbose,
      }),
    });

    const mode =
      trading.mode === "live" ? `LIVE trading: real orders at ${trading.baseUrl}` : "paper trading";
    say(`Following ${plan.description}: ${plan.symbols.length} symbols, one cycle per closed hour (${mode})`);
    say("Press Ctrl-C to stop after the current cycle.");

    const stop = new AbortController();
    let signals = 0;
    const onSignal = (name: string) => {
      signals++;
      if (signals === 1) {
        say(`${name}: stopping after the current cycle (again to abandon it)`);
        stop.abort();
        return;
      }
      say(`${name}: abandoning the current cycle; messages in flight return to their queue`);
      process.exit(130);
    };
    const sigint = () => onSignal("SIGINT");
    const sigterm = () => onSignal("SIGTERM");
    process.on("SIGINT", sigint);
    process.on("SIGTERM", sigterm);
    let result: FollowResult;
    try {
      result = await follow({
        pipeline: {
          runCycle: async (at) => {
            cycleAt = at;
            failures.clear();
            const report = await pipeline.runCycle(at);
            // ingest reports a symbol it could not fetch and goes on; none at all is a failed cycle
            if (failures.size === plan.symbols.length) {
              const [symbol, why] = [...failures][0]!;
              throw new Error(
                `no candle from ${plan.description} for any of the ${failures.size} symbols (${symbol}: ${why}); the chain ran on what the store already had`,
              );
            }
            return report;
          },
        },
        clock: plan.startClock(),
        intervalSeconds: INTERVAL,
        delaySeconds: CYCLE_DELAY_SECONDS,
        lastCloseMs: plan.lastCloseMs,
        maxCycles,
        signal: stop.signal,
        onCycle: (report, n) => say(formatCycleStatus(report, n)),
        onCycleFailed: (at, error) =>
          say(`cycle ${at.toISOString().slice(0, 16)} failed: ${(error as Error).message ?? String(error)}`),
      });
    } finally {
      process.off("SIGINT", sigint);
      process.off("SIGTERM", sigterm);
    }

    const why = {
      signal: "stopped on request",
      "end-of-data": "the replay has no more candles",
      cycles: `--cycles ${args.cycles} reached`,
      failures: "3 cycles failed in a row",
    }[result.stoppedBy];
    say(`Stopped after ${result.cycles} cycle(s) (${why}); ${result.failedCycles} failed.`);
    if (result.firstAt && result.lastAt) {
      const summary = await summarizeRun(
        pipeline.stores,
        new Date(Date.parse(result.firstAt) - INTERVAL * 1000),
        new Date(Date.parse(result.lastAt) + INTERVAL * 1000),
      );
      say("");
      say(formatSummary(summary));
    }
    for (const line of await queueReport(cloud)) say(line);
    return result.stoppedBy === "failures" ? 1 : 0;
  } finally {
    await cloud.stop();
  }
}

/** The source, noting each symbol whose fetch failed (ingest itself only logs it). */
function recordingFailures(source: CandleSource, failures: Map<string, string>): CandleSource {
  return {
    async getCandles(productId, granularity, startSec, endSec) {
      try {
        return await source.getCandles(productId, granularity, startSec, endSec);
      } catch (error) {
        failures.set(productId, error instanceof Error ? error.message : String(error));
        throw error;
      }
    },
  };
}

/** Messages left in the queues and dead-letter queues, one line each (none when all are empty). */
async function queueReport(cloud: UsedLocalCloud): Promise<string[]> {
  const sqs = new SQSClient({});
  const count = async (url: string) => {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const lines: string[] = [];
  try {
    for (const q of Object.values(cloud.queues)) {
      const waiting = await count(q.url);
      const dead = await count(q.deadLetterUrl);
      if (waiting > 0)
        lines.push(
          `Queue ${q.id}: ${waiting} message(s) waiting${q.id === "validation" ? " for the LLM" : ""}${cloud.owned ? " (gone with this run's cloud)" : ", kept in the running cloud"}`,
        );
      if (dead > 0) lines.push(`Dead-letter queue ${q.id}: ${dead} message(s)`);
    }
  } finally {
    sqs.destroy();
  }
  return lines;
}
