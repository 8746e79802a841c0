/**
 * The event-driven chain is idempotent: every domain event delivered twice (at once), and the
 * schedules firing during the event-driven run, still give exactly one signal per symbol and candle,
 * one recommendation per signal and one order per recommendation. The stages are the deployed
 * steps on the local cloud; the bus is the in-process one, as `npm start` would use it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "#config";
import { DEFAULT_BRIDGE_SETTINGS, DEFAULT_DECISION_THRESHOLDS, DEFAULT_SIGNAL_TTL_DAYS } from "#defaults";
import type { DomainEvent } from "#domain/events.js";
import type { Exchange } from "#exchange/exchange.js";
import { ingestCandles } from "#market-data/ingest.js";
import { ReplayCandleSource } from "#market-data/replay.js";
import { QUEUES } from "#queues/definitions.js";
import { queueSender } from "#queues/sender.js";
import { InProcessBus, publishStored } from "#runtime/event-bus.js";
import { silentLog } from "#runtime/log.js";
import { bundledRules, createVenue } from "#runtime/venue.js";
import {
  candlesClosedEvents,
  recommendationQueuedEvents,
  signalsWrittenEvents,
} from "#steps/chain-events.js";
import { generateSignals } from "#steps/generate-signals.js";
import { runBridgeCycle } from "#steps/signal-bridge.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { APRIL_CANDLES, APRIL_SYMBOLS, aprilPipeline, queueDepth, shippedModel } from "./support.js";

describe("event-driven chain: each event delivered twice, the schedules firing during the run", () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama();
  });
  afterAll(async () => {
    await ollama.close();
  });

  it("one signal per symbol and candle, one recommendation per signal, one order per recommendation", async () => {
    const cloud = await isolatedCloud("e2e-events");
    ollama.reset();
    ollama.setDefault("approve");
    const stores = createStores(createDocumentClient());
    const paper = await createVenue(loadConfig({ TRADING_MODE: "paper" }), {
      db: createDocumentClient(),
      portfolioTable: cloud.tables.portfolio,
      candles: stores.candles,
      granularity: "ONE_HOUR",
      rules: bundledRules(),
    });
    const placed: string[] = [];
    const exchange: Exchange = Object.assign(Object.create(paper.exchange), {
      placeOrder: (request: Parameters<Exchange["placeOrder"]>[0]) => {
        placed.push(request.clientOrderId);
        return paper.exchange.placeOrder(request);
      },
    });
    // the cycle of 12:00's candle close, where the shipped model's first recommendations appear
    const pipeline = await aprilPipeline(cloud, {
      ollamaHost: ollama.host,
      exchange,
      from: new Date("2024-04-14T12:00:00Z"),
    });
    const model = await shippedModel();
    const sendToValidation = queueSender(cloud.queues.validation.url, QUEUES.validation.urlEnvVar);
    const bus = new InProcessBus();

    const marketData = async (at: Date) => {
      const reports = await ingestCandles({
        source: new ReplayCandleSource(APRIL_CANDLES),
        sink: stores.candles,
        symbols: APRIL_SYMBOLS,
        granularity: "ONE_HOUR",
        backfillBuckets: 600,
        nowMs: () => at.getTime(),
      });
      await publishStored(bus, candlesClosedEvents(reports, "ONE_HOUR", at), silentLog);
    };
    const signals = async (at: Date) => {
      const report = await generateSignals(
        { candles: stores.candles, signals: stores.signals, model, log: silentLog },
        {
          symbols: APRIL_SYMBOLS,
          granularity: "ONE_HOUR",
          thresholds: DEFAULT_DECISION_THRESHOLDS,
          ttlDays: DEFAULT_SIGNAL_TTL_DAYS,
          dataSource: "replay",
        },
        at,
      );
      await publishStored(bus, signalsWrittenEvents(report, at), silentLog);
    };
    const bridge = async (at: Date) => {
      const report = await runBridgeCycle(
        { ...stores, sendToValidation, log: silentLog },
        DEFAULT_BRIDGE_SETTINGS,
        at,
      );
      await publishStored(bus, recommendationQueuedEvents(report, at), silentLog);
    };
    const later = (e: DomainEvent, seconds: number) => new Date(Date.parse(e.occurredAt) + seconds * 1000);
    // every event twice at once, and the safety-net schedule of the same stage beside them
    bus.subscribe("CandlesClosed", async (e) => {
      await Promise.all([
        signals(later(e, 1)),
        signals(later(e, 1)),
        signals(later(e, 2)),
        bridge(later(e, 2)),
      ]);
    });
    bus.subscribe("SignalsWritten", async (e) => {
      await Promise.all([bridge(later(e, 1)), bridge(later(e, 1)), marketData(later(e, 1))]);
    });

    const close = new Date("2024-04-14T12:00:05Z");
    await Promise.all([marketData(close), marketData(close)]);
    // then the rest of the chain (validation, risk, execution, portfolio) as the queues drive it,
    // with market data, signals and the bridge running once more, as their schedules would
    await pipeline.runCycle(new Date("2024-04-14T12:03:00Z"));

    const candleStart = Date.parse("2024-04-14T11:00:00Z") / 1000;
    const stored = await stores.signals.signalsSince(
      new Date("2024-04-14T11:00:00Z"),
      new Date("2024-04-14T13:00:00Z"),
    );
    const ofCandle = stored.filter((s) => s.candleStart === candleStart);
    expect(ofCandle.map((s) => s.symbol).sort()).toEqual([...APRIL_SYMBOLS].sort());

    const published = bus.published;
    // two market-data runs at once may both store (and announce) the candle: harmless, as shown below
    const closes = published.flatMap((e) => (e.type === "CandlesClosed" ? [e.candleStart] : []));
    expect(new Set(closes)).toEqual(new Set([Date.parse("2024-04-14T11:00:00Z") / 1000]));
    const announced = published.flatMap((e) => (e.type === "SignalsWritten" ? e.signalIds : []));
    expect([...announced].sort()).toEqual(ofCandle.map((s) => s.signalId).sort());

    const recs = await Promise.all(ofCandle.map((s) => stores.recommendations.get(`rec-${s.signalId}`)));
    const made = recs.filter((r) => r !== undefined);
    expect(made.length).toBeGreaterThan(0);
    const queued = published.flatMap((e) => (e.type === "RecommendationQueued" ? [e.recommendationId] : []));
    expect(new Set(queued).size).toBe(queued.length);
    const executed = made.filter((r) => r.status === "EXECUTED");
    expect(executed.length).toBeGreaterThan(0);
    // one order per recommendation, on the venue itself
    expect(new Set(placed).size).toBe(placed.length);
    expect(placed.sort()).toEqual(executed.map((r) => r.clientOrderId).sort());
    for (const q of Object.values(cloud.queues)) expect(await queueDepth(q.deadLetterUrl)).toBe(0);
  }, 120_000);
});
