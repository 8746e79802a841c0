/**
 * Which local cloud and which market data `npm run invoke` gives a handler, in this order:
 * 1. AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS set: that cloud, as the environment says;
 * 2. the cloud `npm run local` keeps up (its state file, health-probed), so calls chain: a pause is
 *    still there for the next call's status;
 * 3. otherwise a fresh cloud for this call only, stopped after it.
 * Market data: COINBASE_API_BASE_URL when set; else the local replay market (the running one's, or
 * one started for the call), never the internet, unless `liveCandles` asks for Coinbase itself.
 */

import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { ingestCandles } from "#market-data/ingest.js";
import { createDocumentClient, DynamoCandleStore } from "#store/dynamo/index.js";
import { type LocalStack, startLocalStack, startReplayMarket, WARMUP_HOURS } from "./cloud-server.js";
import { findRunningCloud } from "./cloud-state.js";

export interface InvokeCloud {
  /** one line: which cloud and which market data the call uses */
  description: string;
  /** stops what was started for this call only */
  stop(): Promise<void>;
}

export interface InvokeCloudOptions {
  repoRoot: string;
  /** the replay folder of a market started for the call */
  candlesDir: string;
  /** read Coinbase's own public market data (the internet) */
  liveCandles: boolean;
  /** written to: the handler reads its configuration from it */
  env: NodeJS.ProcessEnv;
  /**
   * a fresh cloud gets the candles market-data would have stored by now (from the local market),
   * so a function that reads them answers on its own; default false
   */
  seedCandles?: boolean;
}

/** The functions that read stored candles (features, marks, paper prices). */
export const READS_CANDLES: ReadonlySet<string> = new Set([
  "signal-generator",
  "risk-manager",
  "trade-executor",
  "portfolio",
  "position-manager",
]);

export async function prepareInvokeCloud(options: InvokeCloudOptions): Promise<InvokeCloud> {
  const { env } = options;
  const running = await findRunningCloud(options.repoRoot, env);
  const marketWanted = !options.liveCandles && !env.COINBASE_API_BASE_URL;
  const marketNote = (url: string) =>
    marketWanted ? `replayed market data at ${url}` : marketSource(env, options.liveCandles);

  if (running.kind === "state-file") {
    const { state } = running;
    for (const [k, v] of Object.entries(state.env)) env[k] = v;
    if (marketWanted) env.COINBASE_API_BASE_URL = state.marketUrl;
    return {
      description: `the running local cloud (pid ${state.pid}, ${running.file}), ${marketNote(state.marketUrl)}`,
      stop: async () => {},
    };
  }
  const stale = running.kind === "none" && running.stale ? ` (${running.stale} was stale: ignored)` : "";
  if (running.kind === "environment") {
    if (!marketWanted)
      return { description: `the cloud at AWS_ENDPOINT_URL_*, ${marketNote("")}`, stop: async () => {} };
    const market = await startReplayMarket(options.candlesDir);
    env.COINBASE_API_BASE_URL = market.baseUrl;
    return {
      description: `the cloud at AWS_ENDPOINT_URL_*, ${marketNote(market.baseUrl)} (stopped after the call)`,
      stop: () => market.close(),
    };
  }
  const stack = await startLocalStack({ candlesDir: options.candlesDir });
  for (const [k, v] of Object.entries(stack.state.env)) env[k] = v;
  if (marketWanted) env.COINBASE_API_BASE_URL = stack.state.marketUrl;
  let seeded = "";
  if (options.seedCandles && marketWanted) {
    try {
      seeded = `, seeded with ${await seedCandles(stack)} candles of the replay market as market-data would have stored them`;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  return {
    description: `a fresh local cloud for this call only${seeded}, stopped after it${stale}, ${marketNote(stack.state.marketUrl)}; run \`npm run local\` in another terminal to keep one up between calls`,
    stop: () => stack.stop(),
  };
}

function marketSource(env: NodeJS.ProcessEnv, liveCandles: boolean): string {
  if (env.COINBASE_API_BASE_URL) return `market data from COINBASE_API_BASE_URL=${env.COINBASE_API_BASE_URL}`;
  return liveCandles ? "market data from Coinbase itself (--live-candles)" : "";
}

/** What market-data stores on its first run: WARMUP_HOURS of hourly candles of every product. */
async function seedCandles(stack: LocalStack): Promise<number> {
  const db = createDocumentClient({
    endpoint: stack.state.dynamodbEndpoint,
    region: stack.state.env.AWS_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const reports = await ingestCandles({
      source: new CoinbaseMarketData({ baseUrl: stack.state.marketUrl }),
      sink: new DynamoCandleStore(db, stack.state.tables.candles!),
      symbols: stack.market.productIds,
      granularity: "ONE_HOUR",
      backfillBuckets: WARMUP_HOURS,
    });
    const failed = reports.find((r) => !r.ok);
    if (failed && !failed.ok) throw new Error(`seeding the fresh cloud's candles failed: ${failed.error}`);
    return reports.reduce((n, r) => n + r.written, 0);
  } finally {
    db.destroy();
  }
}
