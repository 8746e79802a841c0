import { resolve } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { loadConfig } from "#config";
import type { Exchange } from "#exchange/exchange.js";
import { createOllamaVerdictClient } from "#llm/index.js";
import { createLocalPipeline } from "#local/pipeline.js";
import { replayClock } from "#local/replay-clock.js";
import { loadSignalModel, type SignalModel } from "#model/index.js";
import { silentLog } from "#runtime/log.js";
import { bundledRules, candleMarks, createVenue } from "#runtime/venue.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import type { FakeProductInput } from "#test/fakes/fake-coinbase.js";
import type { isolatedCloud } from "#test/support/local-cloud.js";

/** Real candles around 2024-04-14, when the shipped model says BUY above 0.6 for several symbols. */
export const APRIL_CANDLES = resolve(import.meta.dirname, "../fixtures/replay-2024-04");
export const APRIL_SYMBOLS = ["AVAX-USD", "BCH-USD", "DOGE-USD", "ETC-USD", "LINK-USD", "SHIB-USD"];
/** cycles one minute after the closes of 10:00 .. 15:00 UTC */
export const APRIL_FROM = new Date("2024-04-14T11:00:00Z");

/** A fake Coinbase product priced at a replayed close, on a grid that suits its price. */
export function fakeProductAt(productId: string, close: number): FakeProductInput {
  const small = close < 1;
  return {
    productId,
    price: close.toFixed(small ? 8 : 2),
    spread: small ? "0.00000001" : "0.01",
    baseIncrement: small ? "1" : "0.001",
    quoteIncrement: small ? "0.00000001" : "0.01",
    volume24h: "1000000",
  };
}
export const APRIL_TO = new Date("2024-04-14T17:00:00Z");

let model: Promise<SignalModel> | undefined;
export function shippedModel(): Promise<SignalModel> {
  model ??= loadSignalModel(
    resolve(import.meta.dirname, "../../models/signal-model.onnx"),
    resolve(import.meta.dirname, "../../models/signal-model.card.json"),
  );
  return model;
}

export async function aprilPipeline(
  cloud: Awaited<ReturnType<typeof isolatedCloud>>,
  options: { ollamaHost?: string; exchange?: Exchange; ollamaTimeoutMs?: number; from?: Date },
) {
  const stores = createStores(createDocumentClient());
  const config = loadConfig({ TRADING_MODE: "paper" });
  // as npm start: the paper venue stamps fills with the replay time the steps run at
  const clock = replayClock(options.from ?? APRIL_FROM);
  const venue = options.exchange
    ? {
        exchange: options.exchange,
        marks: candleMarks(stores.candles, "ONE_HOUR"),
        settleRestingOrders: undefined,
      }
    : await createVenue(config, {
        db: createDocumentClient(),
        portfolioTable: cloud.tables.portfolio,
        candles: stores.candles,
        granularity: "ONE_HOUR",
        rules: bundledRules(),
        now: clock.now,
      });
  return createLocalPipeline(cloud, {
    candlesDir: APRIL_CANDLES,
    symbols: APRIL_SYMBOLS,
    from: options.from ?? APRIL_FROM,
    to: APRIL_TO,
    model: await shippedModel(),
    verdicts: options.ollamaHost
      ? createOllamaVerdictClient({
          host: options.ollamaHost,
          model: "phi3:3.8b",
          timeoutMs: options.ollamaTimeoutMs ?? 5_000,
        })
      : undefined,
    exchange: venue.exchange,
    settleRestingOrders: venue.settleRestingOrders && (() => venue.settleRestingOrders!(APRIL_SYMBOLS)),
    marks: venue.marks,
    startingCashUsd: 10_000,
    log: silentLog,
    clock,
    handlerLogger: new Logger({ serviceName: "e2e", logLevel: "SILENT" }),
  });
}

export async function queueDepth(url: string): Promise<number> {
  const res = await new SQSClient({}).send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}
