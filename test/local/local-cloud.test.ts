/**
 * `npm run local` end to end: bin/local-cloud.ts as a child process keeps a cloud and a replay
 * market up on 127.0.0.1; `npm run invoke` calls, each its own child process with no AWS or
 * Coinbase endpoint in its environment, find it through the state file and chain: a pause is seen
 * by the next call's status, and market-data then signal-generator work offline. Ctrl-C stops it
 * and removes the state file. A state file whose servers are gone is ignored.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloudState, readCloudState, writeCloudState } from "#local/cloud-state.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "local-cloud-test-"));
const stateFile = join(dir, "state.json");

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { LOCAL_CLOUD_STATE_FILE: stateFile, ...extra };
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"])
    if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env = baseEnv()): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const invoke = (fn: string, event: string) => run("bin/invoke.ts", [fn, "--event", `events/${event}.json`]);
/** the handler's answer: the pretty-printed JSON on stdout after the one-line log records */
const answer = (r: Result) =>
  JSON.parse(r.stdout.slice(r.stdout.indexOf("\n{\n") + 1)) as Record<string, unknown>;

let server: ChildProcessWithoutNullStreams;
let serverOut = "";
let serverExit: Promise<number | null>;
beforeAll(async () => {
  server = spawn(process.execPath, ["--import", "tsx", "bin/local-cloud.ts"], { cwd: ROOT, env: baseEnv() });
  serverExit = new Promise((r) => server.on("close", (code) => r(code)));
  await new Promise<void>((ready, fail) => {
    server.stdout.on("data", (c: Buffer) => {
      serverOut += c.toString();
      if (serverOut.includes("Press Ctrl-C")) ready();
    });
    server.on("close", (code) =>
      fail(new Error(`npm run local exited (${code}) before it was up: ${serverOut}`)),
    );
  });
}, 60_000);
afterAll(async () => {
  if (server.exitCode === null) server.kill("SIGTERM");
  await serverExit;
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run local", () => {
  it("prints its endpoints and the lines to export, and records them in the state file", () => {
    const state = readCloudState(stateFile);
    expect(state?.pid).toBe(server.pid);
    expect(serverOut).toContain(`DynamoDB ${state!.dynamodbEndpoint}`);
    expect(serverOut).toContain(`SQS      ${state!.sqsEndpoint}`);
    expect(serverOut).toContain(`Market   ${state!.marketUrl}`);
    expect(serverOut).toContain(`export AWS_ENDPOINT_URL_DYNAMODB=${state!.dynamodbEndpoint}`);
    expect(serverOut).toContain(`export COINBASE_API_BASE_URL=${state!.marketUrl}`);
    for (const url of [state!.dynamodbEndpoint, state!.sqsEndpoint, state!.marketUrl])
      expect(new URL(url).hostname).toBe("127.0.0.1");
  });

  it("refuses a second one while the first answers, in one line, exit 2", async () => {
    const second = await run("bin/local-cloud.ts", []);
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toMatch(/^npm run local: a local cloud is already running \(pid \d+,/);
  }, 60_000);

  it("keeps state between invoke calls: kill-switch pause, then status shows the pause", async () => {
    const pause = await invoke("kill-switch", "kill-switch.pause");
    expect(pause.code).toBe(0);
    expect(pause.stderr).toContain("on the running local cloud");
    const status = await invoke("kill-switch", "kill-switch.status");
    expect(status.code).toBe(0);
    expect(answer(status).current).toMatchObject({
      active: true,
      changedBy: "operator@example.com",
      reason: "Manual stop: unexpected slippage on BTC-USD",
    });
  }, 60_000);

  it("runs market-data, then signal-generator, offline on the replayed market", async () => {
    const state = readCloudState(stateFile)!;
    const ingest = await invoke("market-data", "market-data.scheduled");
    expect(ingest.code).toBe(0);
    expect(ingest.stderr).toContain(`replayed market data at ${state.marketUrl}`);
    expect(ingest.stderr).toMatch(/the event's time 2025-06-02T12:05:00Z was replaced by the current time/);
    const ingested = answer(ingest) as { symbols: number; reports: Array<{ ok: boolean; written: number }> };
    expect(ingested.symbols).toBe(19);
    for (const r of ingested.reports) expect(r).toMatchObject({ ok: true });
    const signals = await invoke("signal-generator", "signal-generator.scheduled");
    expect(signals.code).toBe(0);
    expect(signals.stdout).not.toContain("run market-data first");
    const written = answer(signals) as { written: number; failed: unknown[] };
    expect(written.failed).toEqual([]);
    expect(written.written).toBe(19);
  }, 90_000);

  it("stops on Ctrl-C with exit 0 and removes its state file", async () => {
    server.kill("SIGINT");
    expect(await serverExit).toBe(0);
    expect(existsSync(stateFile)).toBe(false);
  }, 30_000);
});

describe("a state file whose cloud is gone", () => {
  it("is ignored: invoke starts a fresh cloud for the call and says so", async () => {
    const dead: LocalCloudState = {
      pid: 999_999,
      startedAt: new Date().toISOString(),
      dynamodbEndpoint: "http://127.0.0.1:9",
      sqsEndpoint: "http://127.0.0.1:9",
      marketUrl: "http://127.0.0.1:9",
      env: { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" },
      tables: {},
      queues: Object.fromEntries(
        (["validation", "risk", "execution"] as const).map((id) => [
          id,
          {
            id,
            url: "http://127.0.0.1:9/q",
            arn: "arn",
            deadLetterUrl: "http://127.0.0.1:9/d",
            deadLetterArn: "arn",
          },
        ]),
      ) as LocalCloudState["queues"],
    };
    writeCloudState(stateFile, dead);
    const status = await invoke("kill-switch", "kill-switch.status");
    expect(status.code).toBe(0);
    expect(status.stderr).toContain(
      `a fresh local cloud for this call only, stopped after it (${stateFile} was stale: ignored)`,
    );
    expect(answer(status).current).toMatchObject({ active: false });
  }, 60_000);

  it("seeds a fresh cloud's candles, so signal-generator answers on its own", async () => {
    const signals = await invoke("signal-generator", "signal-generator.scheduled");
    expect(signals.code).toBe(0);
    expect(signals.stderr).toMatch(
      /a fresh local cloud for this call only, seeded with \d+ candles of the replay market/,
    );
    expect(signals.stdout).not.toContain("run market-data first");
    expect(answer(signals)).toMatchObject({ written: 19, failed: [] });
  }, 60_000);
});
