/**
 * npm run invoke: argument handling, and a real invocation of a handler module against a local
 * cloud that is started for the call (127.0.0.1) and stopped after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { invokeLocally, lambdaContext, parseInvokeArgs } from "#local/invoke.js";

const dir = mkdtempSync(path.join(tmpdir(), "invoke-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseInvokeArgs", () => {
  it("accepts a function and an event file", () => {
    expect(parseInvokeArgs(["kill-switch", "--event", "events/kill-switch.status.json"])).toEqual({
      functionName: "kill-switch",
      eventFile: "events/kill-switch.status.json",
    });
  });

  it("refuses unknown functions, the ECS validator, and a missing event with a usage line", () => {
    expect(() => parseInvokeArgs(["nope", "--event", "x.json"])).toThrow(
      /^"nope" is not a Lambda of the pipeline: choose one of .*kill-switch/,
    );
    expect(() => parseInvokeArgs(["llm-validator", "--event", "x.json"])).toThrow(/ECS worker/);
    expect(() => parseInvokeArgs(["portfolio"])).toThrow(/--event <file> is required/);
  });
});

describe("lambdaContext", () => {
  it("counts down to the function's timeout", () => {
    let now = 1_000;
    const ctx = lambdaContext("portfolio", 50, () => now);
    expect(ctx.getRemainingTimeInMillis()).toBe(50_000);
    now += 49_000;
    expect(ctx.getRemainingTimeInMillis()).toBe(1_000);
  });
});

describe("invokeLocally", () => {
  it("starts a local cloud when none runs, gives the handler its environment, stops the cloud", async () => {
    const handlerFile = path.join(dir, "echo-handler.mjs");
    writeFileSync(
      handlerFile,
      `export const handler = async (event, context) => ({
        event,
        remaining: context.getRemainingTimeInMillis(),
        dynamo: process.env.AWS_ENDPOINT_URL_DYNAMODB,
        portfolioTable: process.env.PORTFOLIO_TABLE,
        service: process.env.POWERTOOLS_SERVICE_NAME,
        mode: process.env.TRADING_MODE,
      });`,
    );
    const env: NodeJS.ProcessEnv = {};
    let stopped = false;
    const out = await invokeLocally({
      functionName: "kill-switch",
      event: { action: "status" },
      handlerModule: handlerFile,
      timeoutSeconds: 15,
      env,
      startLocalCloud: async () => ({
        env: { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1", PORTFOLIO_TABLE: "trading-portfolio" },
        stop: async () => {
          stopped = true;
        },
      }),
    });
    expect(out.startedLocalCloud).toBe(true);
    expect(stopped).toBe(true);
    const result = out.result as Record<string, unknown>;
    expect(result.event).toEqual({ action: "status" });
    expect(result.remaining).toBeGreaterThan(14_000);
    expect(env.PORTFOLIO_TABLE).toBe("trading-portfolio");
    expect(env.POWERTOOLS_SERVICE_NAME).toBe("kill-switch");
    expect(env.TRADING_MODE).toBe("paper");
  });

  it("uses an already running local cloud and stops nothing; a handler error propagates", async () => {
    const failing = path.join(dir, "failing-handler.mjs");
    writeFileSync(failing, `export const handler = async () => { throw new Error("store unreachable"); };`);
    let started = false;
    await expect(
      invokeLocally({
        functionName: "portfolio",
        event: {},
        handlerModule: failing,
        timeoutSeconds: 50,
        env: { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" },
        startLocalCloud: async () => {
          started = true;
          throw new Error("must not start");
        },
      }),
    ).rejects.toThrow("store unreachable");
    expect(started).toBe(false);
  });

  it("runs against the real local cloud (local/cloud.ts) when none is running", async () => {
    const handlerFile = path.join(dir, "describe-handler.mjs");
    writeFileSync(
      handlerFile,
      `export const handler = async () => {
        const res = await fetch(process.env.AWS_ENDPOINT_URL_DYNAMODB, {
          method: "POST",
          headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables",
                     "x-amz-date": "20250101T000000Z",
                     authorization: "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0" },
          body: "{}",
        });
        return { endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, tables: (await res.json()).TableNames };
      };`,
    );
    const env: NodeJS.ProcessEnv = {};
    const saved = { ...process.env }; // local/cloud.ts also writes its endpoints into process.env
    const out = await invokeLocally({
      functionName: "kill-switch",
      event: { action: "status" },
      handlerModule: handlerFile,
      timeoutSeconds: 15,
      env,
    }).finally(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });
    const result = out.result as { endpoint: string; tables: string[] };
    expect(result.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.tables).toContain(env.PORTFOLIO_TABLE);
    await expect(fetch(result.endpoint)).rejects.toThrow(); // stopped after the call
  }, 30_000);
});
