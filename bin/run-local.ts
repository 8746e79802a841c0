/**
 * `npm start`: the whole pipeline on a local cloud over replayed candles, on embedded defaults.
 *
 *   npm start -- [--candles data/replay] [--hours 24] [--symbols BTC-USD,ETH-USD]
 *                [--ollama-host http://127.0.0.1:11434] [--ollama-model phi3:3.8b] [--json out.json]
 *                [--live --yes-i-understand-real-orders]
 *   npm start -- --follow [--speed 60 [--from <iso>]] [--candles-url <url>] [--cycles N]
 *
 * Paper by default. With --live (and the confirmation flag) the executor and the portfolio step talk
 * to Coinbase Advanced Trade at COINBASE_API_BASE_URL, signed with the CDP key file at
 * COINBASE_KEY_FILE; the replayed candles still drive the signals. A refusal is one line on stderr
 * and exit code 2.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GRANULARITY_SECONDS } from "#domain/schemas.js";
import { checkOllamaHealth } from "#llm/index.js";
import { COMMON_HELP, isUserMistake, oneLine, parseCommandLine, reportEscapedFailures } from "#local/cli.js";
import { useOrStartLocalCloud } from "#local/cloud-connection.js";
import { runFollowCommand } from "#local/follow-command.js";
import { createLocalPipeline } from "#local/pipeline.js";
import { pipelineOptionsFromConfig } from "#local/pipeline-from-config.js";
import { replayClock } from "#local/replay-clock.js";
import { formatCycle, formatSummary, summarizeRun } from "#local/summary.js";
import {
  chooseLocalTrading,
  LIVE_CONFIRMATION_FLAG,
  LIVE_FLAG,
  type LocalTrading,
} from "#local/trading-mode.js";
import { listCandleFiles, readCandleColumns } from "#market-data/replay.js";
import { loadSignalModel } from "#model/index.js";
import type { Log } from "#runtime/log.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import { sharedDocumentClient } from "#store/dynamo/client.js";
import { createStores } from "#store/dynamo/index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `usage: npm start -- [--follow [--speed N | --candles-url URL] [--from ISO] [--cycles N]] [--candles data/replay] [--hours 24] [--symbols BTC-USD,ETH-USD] [--json out.json] [--verbose]
                 [--ollama-host http://127.0.0.1:11434] [--ollama-model phi3:3.8b] [--live --${LIVE_CONFIRMATION_FLAG}]
Runs the whole pipeline on a local cloud (DynamoDB and SQS on 127.0.0.1) over the last --hours of the
replayed 1h candles in --candles, paper trading, and prints a summary of the run.
  --symbols A,B      only these products (the files' BASE-USDT stand for BASE-USD)
  --json FILE        also write the summary as JSON
  --verbose          the handlers' log lines on stderr
  --ollama-host URL, --ollama-model NAME   the LLM that validates recommendations (default: OLLAMA_HOST, OLLAMA_MODEL)
  --live --${LIVE_CONFIRMATION_FLAG}   REAL orders at COINBASE_API_BASE_URL with the key in COINBASE_KEY_FILE
  --follow           paper trading continuously, one cycle per closed candle, until Ctrl-C, with:
    --speed N          replay --candles at N times real time (60 = one hour per minute), or
    --candles-url URL  Coinbase's public candles endpoint (default COINBASE_API_BASE_URL), in real time
    --from ISO         where a replay starts;  --cycles N   stop after N cycles
${COMMON_HELP}
Settings come from the environment (the configuration table in README.md); a wrong value is refused.`;

reportEscapedFailures("npm start");

/** a refusal before anything started: one line on stderr, exit code 2 */
function refuse(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parseCliArgs>;
let trading: LocalTrading;
try {
  args = parseCliArgs();
  trading = await chooseLocalTrading(
    { live: args[LIVE_FLAG], confirmed: args[LIVE_CONFIRMATION_FLAG] },
    process.env,
  );
} catch (error) {
  if (isUserMistake(error)) refuse(oneLine(error));
  throw error;
}

function parseCliArgs() {
  const { values } = parseCommandLine(
    {
      name: "npm start",
      usage: USAGE,
      options: {
        candles: { type: "string", default: "data/replay" },
        hours: { type: "string", default: "24" },
        symbols: { type: "string" },
        "ollama-host": { type: "string" },
        "ollama-model": { type: "string" },
        json: { type: "string" },
        verbose: { type: "boolean", default: false },
        // --follow: local/follow-command.ts
        follow: { type: "boolean", default: false },
        speed: { type: "string" },
        from: { type: "string" },
        "candles-url": { type: "string" },
        cycles: { type: "string" },
        [LIVE_FLAG]: { type: "boolean", default: false },
        [LIVE_CONFIRMATION_FLAG]: { type: "boolean", default: false },
      },
    },
    process.argv.slice(2),
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return values;
}

if (args.follow) {
  const fixedRunOnly = ["--hours", "--json"].find((f) =>
    process.argv.some((a) => a === f || a.startsWith(`${f}=`)),
  );
  if (fixedRunOnly)
    refuse(`${fixedRunOnly} is for the fixed replay; --follow runs until Ctrl-C (or --cycles N)`);
  const say = (line = "") => process.stdout.write(`${line}\n`);
  const code = await runFollowCommand({ args, trading, repoRoot, say }).catch((error: unknown) => {
    if (isUserMistake(error)) refuse(oneLine(error));
    throw error;
  });
  await new Promise((flushed) => process.stdout.write("", flushed));
  process.exit(code);
}
const onlyWithFollow = (["speed", "from", "candles-url", "cycles"] as const).filter(
  (f) => args[f] !== undefined,
);
if (onlyWithFollow.length > 0) refuse(`--${onlyWithFollow[0]} belongs to --follow: add --follow, or drop it`);

const config = trading.config;
const tradingLabel =
  trading.mode === "live" ? `LIVE trading: real orders at ${trading.baseUrl}` : "paper trading";
const ollamaHost = args["ollama-host"] ?? config.OLLAMA_HOST;
const ollamaModel = args["ollama-model"] ?? config.OLLAMA_MODEL;
const hours = Number(args.hours);
if (!Number.isInteger(hours) || hours < 1)
  refuse(`--hours ${args.hours}: give a positive whole number of hourly cycles, such as 24`);

const files = listCandleFiles(args.candles).filter((f) => f.granularity === "ONE_HOUR");
if (files.length === 0) refuse(`no 1h candle files (<BASE>-<QUOTE>_1h.csv) in ${args.candles}`);
const wanted = args.symbols?.split(",").map((s) => s.trim().toUpperCase());
const chosen = wanted ? files.filter((f) => wanted.includes(f.productId)) : files;
if (wanted && chosen.length !== wanted.length) {
  const known = files.map((f) => f.productId).join(", ");
  const missing = wanted.filter((w) => !files.some((f) => f.productId === w)).join(", ");
  refuse(
    `--symbols ${args.symbols}: no 1h candle file for ${missing} in ${args.candles}; choose from ${known}`,
  );
}
// a file that does not parse (a bad row, with its file:line) drops its symbol, not the run
const lastStarts = new Map<string, number>();
for (const f of chosen) {
  try {
    const cols = readCandleColumns(f.path);
    lastStarts.set(f.productId, cols.start[cols.length - 1]!);
  } catch (error) {
    process.stderr.write(`warning: ${f.productId} left out of this run: ${(error as Error).message}\n`);
  }
}
if (lastStarts.size === 0) refuse(`no candle file in ${args.candles} could be read (see the warnings above)`);
const symbols = chosen.map((f) => f.productId).filter((s) => lastStarts.has(s));
const lastStart = Math.min(...lastStarts.values());
const interval = GRANULARITY_SECONDS.ONE_HOUR;
const to = new Date((lastStart + interval) * 1000);
const from = new Date(to.getTime() - hours * interval * 1000);

const say = (line = "") => process.stdout.write(`${line}\n`);
const quiet: Log = {
  debug() {},
  info: (m, ...x) => args.verbose && console.error(m, ...x),
  warn: (m, ...x) => args.verbose && console.error(m, ...x),
  error: (m, ...x) => console.error(m, ...x),
};

if (trading.mode === "live") {
  say(`Trading: LIVE. Orders go to ${trading.baseUrl}, signed with the key in ${trading.keyFile}.`);
  say("  Signals come from the replayed candles below; the exchange's balances and fills are the books.");
  for (const warning of trading.warnings) say(`  WARNING: ${warning}`);
}
const cloud = await useOrStartLocalCloud(repoRoot);
say(`Local cloud: ${cloud.description}`);
try {
  say(`  DynamoDB ${cloud.dynamodbEndpoint}: ${Object.values(cloud.tables).join(", ")}`);
  say(
    `  SQS      ${cloud.sqsEndpoint}: ${Object.values(cloud.queues)
      .map((q) => `${q.id} (+DLQ)`)
      .join(", ")}`,
  );

  const model = await loadSignalModel(config.MODEL_PATH, config.MODEL_CARD_PATH);
  say(`Model: ${model.name} ${model.version} (${model.featureCount} features)`);

  const health = await checkOllamaHealth(ollamaHost, ollamaModel, 3_000);
  const llmReady = health.reachable && health.modelPresent;
  if (llmReady) say(`LLM: ${ollamaModel} at ${ollamaHost}`);
  else {
    say(`LLM: NOT AVAILABLE — ${health.message}`);
    say("  Validation will not run: recommendations stay QUEUED (nothing approved by a rule, nothing lost).");
    say(`  To validate, start Ollama and pull the model, then run again:`);
    say(`    ollama serve &   ollama pull ${ollamaModel}   (or set OLLAMA_HOST / --ollama-host)`);
  }

  const stores = createStores();
  // one clock for the run: the paper venue stamps its orders and fills with the replay time, as the steps do
  const clock = replayClock(from);
  const venue = await createVenue(config, {
    db: sharedDocumentClient(),
    portfolioTable: cloud.tables.portfolio,
    candles: stores.candles,
    granularity: "ONE_HOUR",
    rules: bundledRules(),
    now: clock.now,
  });
  const pipeline = createLocalPipeline(cloud, {
    candlesDir: args.candles,
    symbols,
    from,
    to,
    model,
    ...pipelineOptionsFromConfig({
      config,
      venue,
      symbols,
      llm: llmReady ? { host: ollamaHost, model: ollamaModel } : undefined,
      log: quiet,
      verbose: args.verbose,
    }),
    clock,
    onCycle: (c) => say(formatCycle(c)),
  });

  say(
    `Replay: ${symbols.length} symbols, ${hours} hourly cycles from ${from.toISOString()} to ${to.toISOString()} (${tradingLabel})`,
  );
  const started = performance.now();
  await pipeline.run();
  say(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const summary = await summarizeRun(
    pipeline.stores,
    new Date(from.getTime() - 3_600_000),
    new Date(to.getTime() + 3_600_000),
    bundledRules(),
  );
  say("");
  say(`Trading          ${trading.mode === "live" ? `LIVE at ${trading.baseUrl}` : "paper"}`);
  say(formatSummary(summary));
  const sqs = new SQSClient({});
  for (const q of Object.values(cloud.queues)) {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: q.deadLetterUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    const n = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
    if (n > 0) say(`Dead-letter queue ${q.id}: ${n} message(s)`);
  }
  const waiting = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: cloud.queues.validation.url,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  const pending = Number(waiting.Attributes?.ApproximateNumberOfMessages ?? 0);
  if (pending > 0) say(`Validation queue: ${pending} message(s) waiting for the LLM`);
  if (args.json) {
    const mode =
      trading.mode === "live" ? { mode: "live", venueBaseUrl: trading.baseUrl } : { mode: "paper" };
    writeFileSync(args.json, JSON.stringify({ trading: mode, ...summary }, null, 2));
  }
} finally {
  await cloud.stop();
}
