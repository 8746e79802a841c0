/**
 * The live exit chain on the local cloud with the paper venue, or with the live venue's client
 * (Coinbase Advanced Trade, JWT-signed) against the fake Coinbase: an entry executed and reconciled
 * into a managed position, then prices moved by storing candles (and, on the fake, by its book),
 * the position manager run, the execution queue (local SQS) consumed by the executor's batch
 * handler, and the portfolio step booking the exits. The clock is the test's.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { SQSEvent } from "aws-lambda";
import { Decimal } from "decimal.js";
import { loadCoinbaseKey } from "#coinbase/auth.js";
import { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import { loadConfig } from "#config";
import {
  ExecutionRequest,
  type ManagedPosition,
  type Recommendation,
  RecommendationStatus,
} from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import { DEFAULT_EXITS, type ExitSettings } from "#exits/exit-settings.js";
import { toSqsRecord } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";
import { type Log, silentLog } from "#runtime/log.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { bundledRules, candleMarks, createVenue, type Venue } from "#runtime/venue.js";
import { executionRequestFor } from "#steps/assess-recommendation.js";
import { DEFAULT_EXECUTION_SETTINGS, executeTrade } from "#steps/execute-trade.js";
import { DEFAULT_RESEND_AFTER_MS, managePositions } from "#steps/manage-positions.js";
import { type PositionManagerCommand, runPositionCommand } from "#steps/manual-exit.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import type { FakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { recommendation } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { approvingDecision, walkLifecycle } from "#test/support/steps.js";

export const T0 = new Date("2024-06-30T12:00:00.000Z");
const HOUR_MS = 3_600_000;

/** The key the fake Coinbase of a test must accept (startFakeCoinbase's `keys`). */
export const COINBASE_TEST_KEY = es256TestKey();

/** The live venue's client against a fake Coinbase, as the deployed functions build it. */
function coinbaseVenue(fake: FakeCoinbase, candles: Stores["candles"]): Venue {
  const key = loadCoinbaseKey({ name: COINBASE_TEST_KEY.name, privateKey: COINBASE_TEST_KEY.sec1Pem });
  const noWait = async () => {};
  const exchange = new CoinbaseExchange(
    new CoinbaseTradingClient({ baseUrl: fake.baseUrl, key, sleep: noWait }),
    { sleep: noWait },
  );
  return { exchange, marks: candleMarks(candles, "ONE_HOUR", exchange) };
}

export async function exitChain(
  label: string,
  exits: Partial<ExitSettings> = {},
  manager: { maxExitAttempts?: number; restingStops?: boolean } = {},
  /** the fake Coinbase to trade on (default: the paper venue) */
  coinbase?: FakeCoinbase,
) {
  const cloud = await isolatedCloud(label);
  const stores: Stores = createStores(createDocumentClient());
  let clock = T0;
  const venue = coinbase
    ? coinbaseVenue(coinbase, stores.candles)
    : await createVenue(loadConfig({ TRADING_MODE: "paper" }), {
        db: createDocumentClient(),
        portfolioTable: cloud.tables.portfolio,
        candles: stores.candles,
        granularity: "ONE_HOUR",
        rules: bundledRules(),
        now: () => clock,
      });
  const exchange: Exchange = venue.exchange;
  const sqs = new SQSClient({});
  const queue = cloud.queues.execution;
  const sendToExecution = queueSender(queue.url, "EXECUTION_QUEUE_URL", sqs);
  const settings = {
    exits: { ...DEFAULT_EXITS, ...exits },
    resendAfterMs: DEFAULT_RESEND_AFTER_MS,
    restingStops: false,
    ...manager,
  };
  const executionHandler = sqsHandler({
    queue: "execution",
    schema: ExecutionRequest,
    logger: new Logger({ serviceName: label, logLevel: "SILENT" }),
    process: (message) =>
      executeTrade({ ...stores, exchange, log: silentLog }, message, clock, DEFAULT_EXECUTION_SETTINGS),
  });

  /** the symbols a test priced: the products the paper venue settles */
  const priced = new Set<string>();
  const chain = {
    cloud,
    stores,
    exchange,
    settings,
    now: () => clock,
    /** moves the clock on */
    advance(ms: number) {
      clock = new Date(clock.getTime() + ms);
    },
    /** the last closed candle of `symbol` closes at `close` (its low at `low`): the venue's price from now on (the fake's book too) */
    async price(symbol: string, close: number, low = close) {
      priced.add(symbol);
      coinbase?.state.setPrice(symbol, String(close));
      const start = Math.floor(clock.getTime() / HOUR_MS) * 3600 - 3600;
      await stores.candles.putCandles([
        {
          symbol,
          granularity: "ONE_HOUR",
          start,
          open: close,
          high: Math.max(close, low),
          low: Math.min(close, low),
          close,
          volume: 1_000_000,
          source: "replay",
        },
      ]);
    },
    /** a BUY approved with a stop `stopFraction` under the price, executed and reconciled into a managed position */
    async enter(id: string, symbol: string, amountUsd: number, price: number, stopFraction = 0.02) {
      await chain.buy(id, symbol, amountUsd, price, stopFraction);
      const position = await stores.managedPositions.get(id);
      if (!position) throw new Error(`entry ${id} opened no managed position`);
      return position;
    },
    /** a BUY approved (with a stop `stopFraction` under the price, or none), executed and reconciled: the reconciliation's report */
    async buy(
      id: string,
      symbol: string,
      amountUsd: number,
      price: number,
      stopFraction: number | undefined,
    ) {
      await chain.price(symbol, price);
      const at = clock.toISOString();
      await stores.recommendations.create(
        recommendation({
          recommendationId: id,
          symbol,
          side: "BUY",
          amountUsd,
          entryPrice: price,
          createdAt: at,
        }),
      );
      await stores.decisions.putRiskDecision(
        approvingDecision(id, amountUsd, clock, { symbol, side: "BUY", quoteSize: String(amountUsd) }),
      );
      await walkLifecycle(stores, id, "VALIDATED", clock);
      await stores.recommendations.transition(id, "VALIDATED", "RISK_APPROVED", "test approval", clock, {
        approvedAmountUsd: amountUsd,
        ...(stopFraction !== undefined ? { stopLoss: price * (1 - stopFraction) } : {}),
      });
      await sendToExecution(executionRequestFor({ recommendationId: id, symbol, side: "BUY" }, clock));
      await chain.deliverAll();
      return chain.reconcile();
    },
    /** one run of the position manager */
    manage: (log: Log = silentLog) =>
      managePositions({ ...stores, exchange, sendToExecution, log }, settings, clock),
    /** an operator's command to the position manager (list, exit, exit-all, retry-exits) */
    command: (command: PositionManagerCommand, log: Log = silentLog) =>
      runPositionCommand({ ...stores, exchange, sendToExecution, log }, settings, command, clock),
    reconcile: () =>
      reconcilePortfolio(
        {
          ...stores,
          exchange,
          marks: venue.marks,
          log: silentLog,
          // as the portfolio function: the paper venue settles its resting orders on the latest candle
          ...(venue.settleRestingOrders
            ? { settleRestingOrders: () => venue.settleRestingOrders!([...priced]) }
            : {}),
        },
        {
          maxDailyLoss: 0.05,
          maxDrawdown: 0.15,
          dailyLossResumesNextDay: true,
          quoteCurrency: "USD",
          positions: { exits: settings.exits, intervalSeconds: 3600 },
        },
        clock,
      ),
    /** receives what is on the execution queue (and deletes it): each message to deliver as often as a test wants */
    async receive(): Promise<Message[]> {
      const out: Message[] = [];
      for (;;) {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            AttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
        const messages = res.Messages ?? [];
        if (messages.length === 0) return out;
        for (const m of messages) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle }));
          out.push(m);
        }
      }
    },
    /** one delivery of a received message to the executor's batch handler; the ids it reported failed */
    async deliver(message: Message): Promise<string[]> {
      const event: SQSEvent = { Records: [toSqsRecord(message, queue.arn, "us-east-1")] };
      const res = await executionHandler(event);
      return res.batchItemFailures.map((f) => f.itemIdentifier);
    },
    /** every queued message delivered once */
    async deliverAll(): Promise<void> {
      for (const m of await chain.receive()) {
        const failed = await chain.deliver(m);
        if (failed.length > 0) throw new Error(`delivery failed: ${m.Body}`);
      }
    },
    /** manager, executor, portfolio: one minute of the live chain */
    async cycle() {
      const report = await chain.manage();
      await chain.deliverAll();
      await chain.reconcile();
      return report;
    },
    /** moves base in or out of the paper account, as a transfer or a manual trade elsewhere would */
    async adjustPaperBalance(currency: string, delta: Decimal.Value) {
      const db = createDocumentClient();
      const Key = { pk: "PAPER#BALANCE", sk: currency };
      const { Item } = await db.send(
        new GetCommand({ TableName: cloud.tables.portfolio, Key, ConsistentRead: true }),
      );
      if (!Item) throw new Error(`no paper ${currency} balance`);
      await db.send(
        new PutCommand({
          TableName: cloud.tables.portfolio,
          Item: {
            ...Item,
            available: new Decimal(Item.available as string).plus(delta).toFixed(),
            version: (Item.version as number) + 1,
          },
        }),
      );
    },
    position: (id: string): Promise<ManagedPosition | undefined> => stores.managedPositions.get(id),
    /** every SELL recommendation */
    async sells(): Promise<Recommendation[]> {
      const out: Recommendation[] = [];
      for (const status of RecommendationStatus.options)
        out.push(
          ...(await stores.recommendations.byStatusCreatedBetween(
            status,
            new Date(0),
            new Date("2100-01-01"),
          )),
        );
      return out.filter((r) => r.side === "SELL");
    },
  };
  return chain;
}
