/**
 * The ECS validator worker's polling against the local cloud and the fake Ollama: it takes at most
 * OLLAMA_NUM_PARALLEL messages at once and so never has more requests in Ollama than its slots; the
 * rest of the backlog waits on the queue, unreceived, and is validated by later polls.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createValidationConsumer, validationPollOptions } from "#functions/llm-validator/consumer.js";
import { pollOnce } from "#queues/poller.js";
import { queueSender } from "#queues/sender.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { drainQueue } from "#test/support/sqs.js";
import { queuedRecommendation, realBtcCandles, signalFor } from "./fixtures.js";

const BACKLOG = 5;
const PARALLEL = 2;

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
});
afterAll(async () => {
  await ollama.close();
});

describe("validator worker polling", () => {
  it(`with OLLAMA_NUM_PARALLEL=${PARALLEL}, a backlog of ${BACKLOG} reaches Ollama at most ${PARALLEL} at a time`, async () => {
    const cloud = await isolatedCloud("worker");
    const env = {
      ...process.env,
      ...cloud.env,
      OLLAMA_HOST: ollama.host,
      OLLAMA_NUM_PARALLEL: String(PARALLEL),
      OLLAMA_TIMEOUT_MS: "5000",
    };
    const stores = createStores(createDocumentClient());
    const candles = realBtcCandles(2000, 40);
    await stores.candles.putCandles(candles);
    const send = queueSender(cloud.queues.validation.url, "VALIDATION_QUEUE_URL");
    const ids: string[] = [];
    for (const candle of candles.slice(30, 30 + BACKLOG)) {
      const signal = signalFor(candle);
      const rec = queuedRecommendation(signal);
      await stores.signals.putSignal(signal);
      await stores.recommendations.create(rec);
      await send({
        schemaVersion: 1,
        type: "ValidateRecommendation",
        recommendationId: rec.recommendationId,
        symbol: rec.symbol,
        sentAt: rec.createdAt,
      });
      ids.push(rec.recommendationId);
    }
    // every answer takes a while, so requests of one batch overlap in the fake
    ollama.reset();
    ollama.setDefault({ kind: "slow", delayMs: 150 });

    const { handler, config } = createValidationConsumer(env);
    const options = validationPollOptions(
      config,
      { url: cloud.queues.validation.url, arn: cloud.queues.validation.arn },
      handler,
    );
    const sqs = new SQSClient({});
    const first = await pollOnce(sqs, options);
    expect(first.received).toBe(PARALLEL);
    expect(first.failed).toBe(0);
    let received = first.received;
    while (received < BACKLOG) {
      const next = await pollOnce(sqs, options);
      expect(next.received).toBeGreaterThan(0);
      expect(next.received).toBeLessThanOrEqual(PARALLEL);
      received += next.received;
    }

    expect(ollama.chatRequests()).toHaveLength(BACKLOG);
    expect(ollama.peakConcurrentChats()).toBe(PARALLEL);
    for (const id of ids) expect((await stores.recommendations.get(id))?.status).toBe("VALIDATED");
    // each went on to risk exactly once (the risk queue is FIFO: one group, deduplicated by id)
    const toRisk = (await drainQueue(cloud.queues.risk.url)) as { recommendationId: string }[];
    expect(toRisk.map((m) => m.recommendationId).sort()).toEqual([...ids].sort());
  });
});
