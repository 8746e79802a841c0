/**
 * The in-process chain queues keep what the pipeline relies on from SQS: the schema at send, a FIFO
 * queue's 5-minute deduplication and one message at a time in order, receive counts on redelivery,
 * and the dead-letter list after the queue's maxReceiveCount.
 */
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "#domain/schemas.js";
import { inProcessChainQueues } from "#local/chain-queues.js";
import { QUEUES } from "#queues/definitions.js";

const base = { schemaVersion: 1 as const, symbol: "BTC-USD", sentAt: "2024-04-14T12:01:00.000Z" };
const risk = (id: string): QueueMessage => ({ ...base, type: "AssessRisk", recommendationId: id });
const execution = (id: string): QueueMessage => ({
  ...base,
  type: "ExecuteTrade",
  recommendationId: id,
  side: "BUY",
});

function clock(startIso: string) {
  let ms = Date.parse(startIso);
  return { now: () => new Date(ms), advance: (minutes: number) => (ms += minutes * 60_000) };
}

const idsOf = (event: SQSEvent) =>
  event.Records.map((r) => (JSON.parse(r.body) as { recommendationId: string }).recommendationId);

describe("in-process chain queues", () => {
  it("refuses a message that is not a chain message, as the SQS sender does", async () => {
    const queues = inProcessChainQueues(() => new Date());
    await expect(
      queues.risk.send({ ...risk("r1"), symbol: "not a product" } as QueueMessage),
    ).rejects.toThrow();
  });

  it("risk (FIFO): one message per call in send order, a repeat within 5 minutes dropped, after that kept", async () => {
    const c = clock("2024-04-14T12:01:00Z");
    const queues = inProcessChainQueues(c.now);
    await queues.risk.send(risk("a"));
    await queues.risk.send(risk("b"));
    await queues.risk.send(risk("a"));
    c.advance(5);
    await queues.risk.send(risk("a"));
    const calls: string[][] = [];
    const result = await queues.risk.drain(async (event) => {
      calls.push(idsOf(event));
      return { batchItemFailures: [] };
    });
    expect(calls).toEqual([["a"], ["b"], ["a"]]);
    expect(result).toEqual({ received: 3, failed: 0 });
  });

  it("risk (FIFO): a failed head comes back before anything behind it, then dead-letters", async () => {
    const queues = inProcessChainQueues(() => new Date("2024-04-14T12:01:00Z"));
    await queues.risk.send(risk("stuck"));
    await queues.risk.send(risk("behind"));
    const seen: string[] = [];
    const counts: string[] = [];
    await queues.risk.drain(async (event) => {
      seen.push(...idsOf(event));
      counts.push(event.Records[0].attributes.ApproximateReceiveCount);
      const failed = event.Records.filter((r) => r.body.includes('"stuck"'));
      return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    const max = QUEUES.risk.maxReceiveCount;
    expect(seen).toEqual([...Array(max).fill("stuck"), "behind"]);
    expect(counts.slice(0, max)).toEqual(Array.from({ length: max }, (_, i) => String(i + 1)));
    expect(queues.deadLetters.map((d) => [d.queue, d.receiveCount])).toEqual([["risk", max]]);
  });

  it("execution (standard): batches of 10; a throwing handler fails the whole batch, which is retried", async () => {
    const queues = inProcessChainQueues(() => new Date("2024-04-14T12:01:00Z"));
    for (let i = 0; i < 12; i++) await queues.execution.send(execution(`e${i}`));
    const sizes: number[] = [];
    let thrown = false;
    const result = await queues.execution.drain(async (event) => {
      sizes.push(event.Records.length);
      if (!thrown) {
        thrown = true;
        throw new Error("the consumer crashed");
      }
      return { batchItemFailures: [] };
    });
    // the failed ten go to the back of the queue, behind the last two, as a visibility timeout would
    expect(sizes).toEqual([10, 10, 2]);
    expect(result).toEqual({ received: 22, failed: 10 });
    expect(queues.deadLetters).toEqual([]);
  });

  it("validation one at a time keeps the bridge's order", async () => {
    const queues = inProcessChainQueues(() => new Date(), { validationOneAtATime: true });
    for (const id of ["first", "second", "third"])
      await queues.validation.send({ ...base, type: "ValidateRecommendation", recommendationId: id });
    const calls: string[][] = [];
    await queues.validation.drain(async (event) => {
      calls.push(idsOf(event));
      return { batchItemFailures: [] };
    });
    expect(calls).toEqual([["first"], ["second"], ["third"]]);
  });
});
