/**
 * Which venue orders go to: the paper exchange (default) or Coinbase Advanced Trade (TRADING_MODE=live).
 * The live key is read from Secrets Manager through Powertools Parameters (cached for 5 minutes), or,
 * for local runs, from the CDP key file at COINBASE_KEY_FILE (setting both is refused). It is never
 * logged; a missing or malformed key stops the function with what to put where.
 */
import { randomUUID } from "node:crypto";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type CoinbaseKey, CoinbaseKeyError, parseCoinbaseKeyFile } from "#coinbase/auth.js";
import { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { readCoinbaseKeyFile } from "#coinbase/key-file.js";
import { CoinbaseMarketData } from "#coinbase/market-data.js";
import { catalogueProductRules, coinbaseProductRules } from "#coinbase/product-rules.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import type { Config } from "#config";
import { DEFAULT_PAPER_ACCOUNT } from "#defaults";
import type { Granularity } from "#domain/schemas.js";
import type { BestBidAsk, Exchange, ProductRulesSource } from "#exchange/exchange.js";
import { candlePriceSource, PaperExchange } from "#exchange/paper/index.js";
import { type MarkSource, MarkUnavailableError } from "#steps/reconcile-portfolio.js";
import { sharedDocumentClient } from "#store/dynamo/client.js";
import type { CandleStore } from "#store/ports.js";
import { tableName } from "#store/tables.js";
import { paperSettingsFromConfig } from "./settings-from-config.js";

export interface Venue {
  exchange: Exchange;
  /** how the portfolio marks positions */
  marks: MarkSource;
  /** the paper venue settles resting limit orders of these products each portfolio cycle */
  settleRestingOrders?: (productIds: readonly string[]) => Promise<void>;
}

export interface VenueDeps {
  db: DynamoDBDocumentClient;
  portfolioTable: string;
  candles: Pick<CandleStore, "latestCandles">;
  granularity: Granularity;
  /** paper: where product rules come from (default: the public Coinbase endpoint) */
  rules?: ProductRulesSource;
  /** live: reads the key file JSON (default: COINBASE_KEY_FILE, else Secrets Manager at COINBASE_SECRET_ARN) */
  readSecret?: () => Promise<string>;
  now?: () => Date;
  /** bid/ask around the last close for paper fills */
  paperSpreadBps?: number;
}

/**
 * Marks for the portfolio: the last stored close of the product; for an asset the pipeline stores
 * no candles of (dust, USDT, an airdrop), the venue's best bid, i.e. what it would sell for now.
 * No candle and no usable quote (no such product, an empty or crossed book, the lookup failed):
 * MarkUnavailableError, which the portfolio reports as unpriced. A store error propagates.
 */
export function candleMarks(
  candles: Pick<CandleStore, "latestCandles">,
  granularity: Granularity,
  venuePrices?: Pick<Exchange, "getBestBidAsk">,
): MarkSource {
  return {
    async markPrice(productId) {
      const [latest] = await candles.latestCandles(productId, granularity, 1);
      if (latest) return latest.close;
      const noCandle = `no ${granularity} candle stored`;
      if (!venuePrices) throw new MarkUnavailableError(productId, `${noCandle} and no venue price source`);
      let quote: BestBidAsk;
      try {
        quote = await venuePrices.getBestBidAsk(productId);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new MarkUnavailableError(productId, `${noCandle}, and the venue has no price: ${why}`);
      }
      return bidMark(productId, quote, noCandle);
    },
  };
}

function bidMark(productId: string, quote: BestBidAsk, noCandle: string): number {
  const bid = Number(quote.bid);
  const ask = Number(quote.ask);
  if (!(bid > 0 && bid < Number.POSITIVE_INFINITY)) {
    throw new MarkUnavailableError(
      productId,
      `${noCandle}, and the venue's best bid "${quote.bid}" is not a positive price`,
    );
  }
  if (ask < bid) {
    throw new MarkUnavailableError(
      productId,
      `${noCandle}, and the venue's book is crossed (bid ${quote.bid} > ask ${quote.ask})`,
    );
  }
  return bid;
}

async function secretFromSecretsManager(arn: string | undefined): Promise<string> {
  if (!arn) {
    throw new Error(
      'TRADING_MODE=live needs COINBASE_SECRET_ARN: the ARN of the Secrets Manager secret holding the Coinbase key file JSON {"name": ..., "privateKey": ...}.',
    );
  }
  const value = await getSecret(arn, { maxAge: 300 });
  if (typeof value !== "string" || value.trim() === "" || value.trim() === "{}") {
    throw new Error(
      `The Coinbase secret ${arn} is empty. Put the key file into it: aws secretsmanager put-secret-value --secret-id ${arn} --secret-string file://cdp_api_key.json`,
    );
  }
  return value;
}

/**
 * The live key: from the local file COINBASE_KEY_FILE (for `npm start -- --live`) or from Secrets
 * Manager at COINBASE_SECRET_ARN (deployed functions). Both set is ambiguous about which account
 * trades, so it is refused; neither set says what to set.
 */
export async function loadLiveKey(
  config: Pick<Config, "COINBASE_KEY_FILE" | "COINBASE_SECRET_ARN">,
): Promise<CoinbaseKey> {
  if (config.COINBASE_KEY_FILE && config.COINBASE_SECRET_ARN) {
    throw new CoinbaseKeyError(
      "TRADING_MODE=live: both COINBASE_KEY_FILE and COINBASE_SECRET_ARN are set, so it is unclear which Coinbase key trades. Set only one: COINBASE_KEY_FILE (a local CDP key file) for local runs, COINBASE_SECRET_ARN (Secrets Manager) for deployed functions.",
    );
  }
  if (config.COINBASE_KEY_FILE) return readCoinbaseKeyFile(config.COINBASE_KEY_FILE);
  if (!config.COINBASE_SECRET_ARN) {
    throw new CoinbaseKeyError(
      'TRADING_MODE=live needs a Coinbase key: COINBASE_SECRET_ARN (deployed: the ARN of the Secrets Manager secret holding the CDP key file JSON {"name": ..., "privateKey": ...}) or COINBASE_KEY_FILE (local runs: the path of that key file).',
    );
  }
  return parseCoinbaseKeyFile(await secretFromSecretsManager(config.COINBASE_SECRET_ARN));
}

export async function createVenue(config: Config, deps: VenueDeps): Promise<Venue> {
  if (config.TRADING_MODE === "live") {
    const key = deps.readSecret ? parseCoinbaseKeyFile(await deps.readSecret()) : await loadLiveKey(config);
    const client = new CoinbaseTradingClient({ baseUrl: config.COINBASE_API_BASE_URL, key });
    const exchange = new CoinbaseExchange(client);
    return { exchange, marks: candleMarks(deps.candles, deps.granularity, exchange) };
  }
  const paper = new PaperExchange({
    db: deps.db,
    table: deps.portfolioTable,
    prices: candlePriceSource(
      deps.candles,
      deps.granularity,
      deps.paperSpreadBps ?? DEFAULT_PAPER_ACCOUNT.spreadBps,
    ),
    rules:
      deps.rules ?? coinbaseProductRules(new CoinbaseMarketData({ baseUrl: config.COINBASE_API_BASE_URL })),
    settings: paperSettingsFromConfig(config),
    now: deps.now ?? (() => new Date()),
    newId: randomUUID,
  });
  return {
    exchange: paper,
    marks: candleMarks(deps.candles, deps.granularity, paper),
    settleRestingOrders: async (productIds) => {
      for (const id of productIds) await paper.settleRestingOrders(id);
    },
  };
}

/** Product rules from the bundled snapshot: for local runs and backtests, which must not call Coinbase. */
export const bundledRules = (): ProductRulesSource => catalogueProductRules();

/**
 * The venue of a deployed function: paper books in the portfolio table, or Coinbase when live.
 * Only the executor and the portfolio function import this, so the other functions do not load
 * the exchange clients at init.
 */
export function deployedVenue(config: Config, candles: Pick<CandleStore, "latestCandles">): Promise<Venue> {
  return createVenue(config, {
    db: sharedDocumentClient(),
    portfolioTable: tableName("portfolio"),
    candles,
    granularity: config.CANDLE_GRANULARITY,
  });
}
