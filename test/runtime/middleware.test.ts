/**
 * The middy chain every deployed handler is (runtime/middleware.ts): a health check answered before
 * anything else, the event parsed with an error that says what to send, Lambda context on every log
 * line, stored metrics flushed after the call (on error too), and Tracer off outside Lambda.
 */
import type { Context, SQSEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ScheduledOrHealthEvent } from "#runtime/lambda-events.js";
import { lambdaHandler, queueHandler } from "#runtime/middleware.js";
import { createLogger, createMetrics, createTracer, MetricUnit } from "#runtime/observability.js";
import { sqsRecord } from "#test/support/sqs.js";

const context = {
  functionName: "unit-fn",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:unit-fn",
  memoryLimitInMB: "256",
  awsRequestId: "req-42",
  logGroupName: "/aws/lambda/unit-fn",
  logStreamName: "local",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

const observability = (service: string) => ({
  logger: createLogger(service),
  metrics: createMetrics(service),
  tracer: createTracer(service),
});

let written: string[] = [];
const records = () =>
  written
    .flatMap((w) => w.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const plainLines = () =>
  written.flatMap((w) => w.split("\n")).filter((l) => l.trim() !== "" && !l.startsWith("{"));

beforeEach(() => {
  written = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("lambdaHandler", () => {
  it("answers a health check with the report, without running the step or flushing metrics", async () => {
    const step = vi.fn(async () => "ran");
    const handler = lambdaHandler(
      {
        ...observability("unit-health"),
        functionName: "unit-health",
        schema: ScheduledOrHealthEvent,
        health: {
          store: async () => "kill switch off",
          exchange: async () => {
            throw new Error("venue unreachable: check the API key");
          },
        },
      },
      step,
    );
    const report = await handler({ action: "health" }, context);
    expect(report).toEqual({
      healthy: false,
      checks: {
        store: { ok: true, detail: "kill switch off" },
        exchange: { ok: false, detail: "venue unreachable: check the API key" },
      },
    });
    expect(step).not.toHaveBeenCalled();
    expect(records().filter((r) => "_aws" in r)).toEqual([]);
  });

  it("refuses an event outside its schema with the actionable error, before the step runs", async () => {
    const step = vi.fn(async () => "ran");
    const handler = lambdaHandler(
      {
        ...observability("unit-parse"),
        functionName: "unit-parse",
        schema: ScheduledOrHealthEvent,
        health: {},
      },
      step,
    );
    await expect(handler({ action: "launch" }, context)).rejects.toThrow(
      /^unit-parse got an event it does not understand: .*Send an EventBridge scheduled event, \{"action":"health"\} or \{"action":"run"\} \(see events\/\)\.$/s,
    );
    expect(step).not.toHaveBeenCalled();
  });

  it("hands the step the parsed event (defaults applied) and the Lambda context", async () => {
    const Command = z.object({ action: z.literal("status"), limit: z.number().default(10) });
    const step = vi.fn(async (event: z.infer<typeof Command>, ctx: Context) => ({
      event,
      id: ctx.awsRequestId,
    }));
    const handler = lambdaHandler(
      { ...observability("unit-step"), functionName: "unit-step", schema: Command, health: {} },
      step,
    );
    expect(await handler({ action: "status" }, context)).toEqual({
      event: { action: "status", limit: 10 },
      id: "req-42",
    });
  });

  it("puts the Lambda context on every log line the step writes", async () => {
    const o = observability("unit-logs");
    const handler = lambdaHandler({ ...o, functionName: "unit-logs", health: {} }, async () => {
      o.logger.info("inside the step");
      return "done";
    });
    await handler({}, context);
    expect(records().find((r) => r.message === "inside the step")).toMatchObject({
      service: "unit-logs",
      function_name: "unit-fn",
      function_request_id: "req-42",
      cold_start: expect.any(Boolean),
    });
  });

  it("flushes the metrics stored during the call, after it and after a failure", async () => {
    const o = observability("unit-metrics");
    const handler = lambdaHandler(
      { ...o, functionName: "unit-metrics", health: {} },
      async (event: unknown) => {
        o.metrics.addMetric("StoredCount", MetricUnit.Count, 2);
        if ((event as { fail?: boolean }).fail) throw new Error("the step failed");
        return "done";
      },
    );
    await handler({}, context);
    await expect(handler({ fail: true }, context)).rejects.toThrow("the step failed");
    const blobs = records().filter((r) => "StoredCount" in r);
    expect(blobs).toHaveLength(2);
    for (const blob of blobs) {
      expect(blob).toMatchObject({ service: "unit-metrics", StoredCount: 2 });
      const aws = blob._aws as { CloudWatchMetrics: { Namespace: string }[] };
      expect(aws.CloudWatchMetrics[0].Namespace).toBe("TradingPipeline");
    }
  });

  it("an invocation with only single metrics flushes without a warning or an unstructured line", async () => {
    const o = observability("unit-single");
    const handler = lambdaHandler({ ...o, functionName: "unit-single", health: {} }, async () => {
      o.metrics.singleMetric().addMetric("SingleCount", MetricUnit.Count, 1);
      return "done";
    });
    await handler({}, context);
    expect(records().filter((r) => "SingleCount" in r)).toHaveLength(1);
    expect(records().filter((r) => r.level === "WARN")).toEqual([]);
    expect(plainLines()).toEqual([]);
  });

  it("traces only inside Lambda: off without AWS_EXECUTION_ENV, and when POWERTOOLS_TRACE_ENABLED=false", () => {
    vi.stubEnv("AWS_EXECUTION_ENV", "");
    expect(createTracer("unit-trace").isTracingEnabled()).toBe(false);
    vi.stubEnv("AWS_EXECUTION_ENV", "AWS_Lambda_nodejs22.x");
    vi.stubEnv("POWERTOOLS_TRACE_ENABLED", "false");
    expect(createTracer("unit-trace").isTracingEnabled()).toBe(false);
  });
});

describe("queueHandler", () => {
  const Message = z.object({ recommendationId: z.string() });
  const sqsEvent = (...bodies: string[]): SQSEvent => ({
    Records: bodies.map((body, i) => sqsRecord(body, { messageId: `m-${i}`, queue: "unit" })),
  });
  const build = () => {
    const processed: string[] = [];
    const commands: string[] = [];
    const handler = queueHandler(
      { ...observability("unit-queue"), functionName: "unit-queue", health: { store: async () => "ok" } },
      {
        queue: "unit",
        schema: Message,
        process: async (m) => {
          if (m.recommendationId === "bad") throw new Error("cannot process");
          processed.push(m.recommendationId);
        },
      },
      {
        schema: z.object({ action: z.literal("resolve-stuck"), recommendationId: z.string() }),
        run: async (c) => {
          commands.push(c.recommendationId);
          return { resolved: c.recommendationId };
        },
      },
    );
    return { handler, processed, commands };
  };

  it("answers a health check", async () => {
    const { handler, processed } = build();
    expect(await handler({ action: "health" }, context)).toEqual({
      healthy: true,
      checks: { store: { ok: true, detail: "ok" } },
    });
    expect(processed).toEqual([]);
  });

  it("runs the operator's command instead of a batch", async () => {
    const { handler, processed, commands } = build();
    expect(await handler({ action: "resolve-stuck", recommendationId: "rec-9" }, context)).toEqual({
      resolved: "rec-9",
    });
    expect(commands).toEqual(["rec-9"]);
    expect(processed).toEqual([]);
  });

  it("processes a batch with partial batch responses: only the failed record comes back", async () => {
    const { handler, processed } = build();
    const body = (id: string) => JSON.stringify({ recommendationId: id });
    const response = await handler(sqsEvent(body("rec-1"), body("bad"), "not json"), context);
    expect(processed).toEqual(["rec-1"]);
    // records run side by side: the failures come back in the order they finished
    const failures = (response as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures;
    expect(failures.map((f) => f.itemIdentifier).sort()).toEqual(["m-1", "m-2"]);
    const failed = records().filter((r) => r.message === "message failed; it goes back to the queue");
    expect(failed.map((r) => r.function_request_id)).toEqual(["req-42", "req-42"]);
  });
});
