/**
 * `npm start -- --follow` end to end: bin/run-local.ts as a child process following the public
 * candles endpoint of the local market (127.0.0.1, the April 2024 fixture), on a clock 36,000
 * times faster than real time, the fake Ollama approving, on this test's own tables and queues.
 * After a few status lines it gets SIGINT, as from Ctrl-C: it must finish the cycle it is in, exit
 * 0, and leave nothing half-way: no message in a queue or dead-letter queue, no recommendation
 * between two steps, the last cycle's equity snapshot written.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { resolve } from "node:path";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecommendationStatus } from "#domain/schemas.js";
import { type LocalMarket, startLocalMarket } from "#local/market-server.js";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { APRIL_CANDLES, APRIL_SYMBOLS } from "#test/e2e/support.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

const ROOT = resolve(import.meta.dirname, "../..");
const STATUS_LINE = /^#(\d+) {2}(\d{4}-\d\d-\d\d \d\d:\d\d) UTC {2}candles \+\d+/;

let cloud: Awaited<ReturnType<typeof isolatedCloud>>;
let market: LocalMarket;
let ollama: FakeOllama;
beforeAll(async () => {
  cloud = await isolatedCloud("follow");
  // no clock: the market answers any window it is asked for, as Coinbase does for history
  market = await startLocalMarket({ candlesDir: APRIL_CANDLES });
  ollama = await startFakeOllama({ defaultBehaviour: "approve" });
});
afterAll(async () => {
  await Promise.all([market.close(), ollama.close()]);
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** starts `npm start -- --follow ...` and sends SIGINT once `statusLines` status lines are out */
function followUntil(args: string[], statusLines: number): Promise<Run> {
  const env: Record<string, string> = { ...cloud.env, OLLAMA_HOST: ollama.host };
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"])
    if (process.env[name]) env[name] = process.env[name]!;
  return new Promise((done, fail) => {
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      ["--import", "tsx", "bin/run-local.ts", "--follow", ...args],
      { cwd: ROOT, env },
    );
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const seen = stdout.split("\n").filter((l) => STATUS_LINE.test(l)).length;
      if (!interrupted && seen >= statusLines) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

async function messagesIn(url: string): Promise<number> {
  const sqs = new SQSClient({});
  try {
    const res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(res.Attributes?.ApproximateNumberOfMessages) +
      Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible)
    );
  } finally {
    sqs.destroy();
  }
}

describe("npm start -- --follow against a public candles endpoint on 127.0.0.1", () => {
  it("trades a cycle per closed candle, stops cleanly on SIGINT, loses nothing", {
    timeout: 180_000,
  }, async () => {
    const run = await followUntil(
      [
        "--candles-url",
        market.baseUrl,
        "--from",
        "2024-04-14T11:00:00Z",
        "--speed",
        "36000",
        "--symbols",
        APRIL_SYMBOLS.join(","),
      ],
      3,
    );
    expect(run.stderr.split("\n").filter((l) => l.startsWith("npm start:"))).toEqual([]);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Following Coinbase public candles at ${market.baseUrl}: 6 symbols`);
    expect(run.stdout).toContain("SIGINT: stopping after the current cycle");

    const lines = run.stdout.split("\n");
    const status = lines.filter((l) => STATUS_LINE.test(l)).map((l) => l.match(STATUS_LINE)!);
    const stopped = run.stdout.match(/Stopped after (\d+) cycle\(s\) \(stopped on request\); 0 failed\./);
    expect(stopped).not.toBeNull();
    // every cycle that started finished and printed its line; the stop came after the third
    expect(status.map((m) => Number(m[1]))).toEqual(
      Array.from({ length: Number(stopped![1]) }, (_, i) => i + 1),
    );
    expect(status.length).toBeGreaterThanOrEqual(3);
    // one cycle a minute after each close, none skipped
    expect(status.map((m) => m[2])).toEqual(
      status.map((_, i) =>
        new Date(Date.parse("2024-04-14T11:01:00Z") + i * 3_600_000)
          .toISOString()
          .slice(0, 16)
          .replace("T", " "),
      ),
    );

    // nothing lost: every queue and dead-letter queue is empty
    for (const q of Object.values(cloud.queues)) {
      expect({ queue: q.id, messages: await messagesIn(q.url) }).toEqual({ queue: q.id, messages: 0 });
      expect({ dlq: q.id, messages: await messagesIn(q.deadLetterUrl) }).toEqual({ dlq: q.id, messages: 0 });
    }
    // nothing half-written: no recommendation between two steps, the last cycle's snapshot is there
    const stores = createStores(createDocumentClient());
    const from = new Date("2024-04-01T00:00:00Z");
    const to = new Date("2024-05-01T00:00:00Z");
    const count = async (s: RecommendationStatus) =>
      (await stores.recommendations.byStatusCreatedBetween(s, from, to)).length;
    for (const between of ["QUEUED", "VALIDATED", "RISK_APPROVED", "EXECUTING"] as const)
      expect({ status: between, count: await count(between) }).toEqual({ status: between, count: 0 });
    const executed = await stores.recommendations.byStatusCreatedBetween("EXECUTED", from, to);
    expect(executed.length).toBeGreaterThan(0);
    for (const rec of executed) {
      // an executed recommendation's order is in the books with its fills
      const order = await stores.orders.getOrder(clientOrderIdFor(rec.recommendationId));
      expect(order?.status).toBe("FILLED");
      expect((await stores.orders.fillsOf(order!.clientOrderId)).length).toBeGreaterThan(0);
    }
    const last = status[status.length - 1]!;
    const snapshot = await stores.portfolio.latestEquitySnapshot();
    expect(snapshot?.at.slice(0, 16).replace("T", " ")).toBe(last[2]);
  });

  it("replays a candle folder at --speed and stops by itself after its last candle, exit 0", {
    timeout: 180_000,
  }, async () => {
    // the fixture's last candle opens at 17:00: cycles at 15:01, 16:01, 17:01 and 18:01
    const run = await followUntil(
      [
        "--speed",
        "36000",
        "--candles",
        APRIL_CANDLES,
        "--from",
        "2024-04-14T15:00:00Z",
        "--ollama-host",
        "http://127.0.0.1:9",
      ],
      99,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Following replay of ${APRIL_CANDLES} at 36000x (until 2024-04-14T18:00:00.000Z): 6 symbols`,
    );
    const at = run.stdout.split("\n").flatMap((l) => l.match(STATUS_LINE)?.[2] ?? []);
    expect(at).toEqual(["2024-04-14 15:01", "2024-04-14 16:01", "2024-04-14 17:01", "2024-04-14 18:01"]);
    expect(run.stdout).toContain("Stopped after 4 cycle(s) (the replay has no more candles); 0 failed.");
  });

  it("refuses --hours with --follow in one line, exit 2", async () => {
    const run = await followUntil(["--hours", "3"], 1);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      "npm start: --hours is for the fixed replay; --follow runs until Ctrl-C (or --cycles N)",
    );
  });

  it("refuses a clock faster than real time on an endpoint without --from, in one line, exit 2", async () => {
    const run = await followUntil(["--candles-url", market.baseUrl, "--speed", "60"], 1);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `npm start: --speed 60 with candles from ${market.baseUrl} runs ahead of real time: add --from <date in the past>, or drop --candles-url to replay data/replay`,
    );
  });
});
