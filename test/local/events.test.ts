/**
 * Every sample event in events/ parses through the schema of the function it is for; SQS bodies
 * through the queue message schemas, so `sam local invoke` and `npm run invoke` feed real shapes.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ExecutionRequest, RiskRequest, ValidationRequest } from "#domain/schemas.js";
import { KillSwitchCommand, sampleEventSchemaFor } from "#local/sample-events.js";
import { type QueueId, queueName } from "#queues/definitions.js";
import { HealthCheckEvent, ScheduledEvent } from "#runtime/lambda-events.js";

const EVENTS_DIR = path.resolve(import.meta.dirname, "..", "..", "events");
const files = readdirSync(EVENTS_DIR).filter((f) => f.endsWith(".json"));
const load = (file: string): unknown => JSON.parse(readFileSync(path.join(EVENTS_DIR, file), "utf8"));

describe("events/", () => {
  it("has an event for every Lambda and for the validator's queue", () => {
    const prefixes = new Set(files.map((f) => f.split(".")[0]));
    for (const fn of [
      "market-data",
      "signal-generator",
      "signal-bridge",
      "risk-manager",
      "trade-executor",
      "portfolio",
      "position-manager",
      "kill-switch",
      "llm-validator",
      "health",
    ]) {
      expect(prefixes, `no events/${fn}.*.json`).toContain(fn);
    }
    for (const action of ["pause", "resume", "status"]) expect(files).toContain(`kill-switch.${action}.json`);
    for (const action of ["list", "exit", "exit-all", "retry-exits"])
      expect(files).toContain(`position-manager.${action}.json`);
  });

  it.each(files)("%s parses through its schema", (file) => {
    const schema = sampleEventSchemaFor(file);
    const parsed = schema.safeParse(load(file));
    expect(parsed.success, parsed.success ? "" : z.prettifyError(parsed.error)).toBe(true);
  });

  it("scheduled events carry the Scheduled Event shape the handlers read", () => {
    for (const file of files.filter((f) => f.endsWith(".scheduled.json"))) {
      expect(ScheduledEvent.parse(load(file))["detail-type"]).toBe("Scheduled Event");
    }
    expect(HealthCheckEvent.parse(load("health.json"))).toEqual({ action: "health" });
  });

  it("SQS bodies are schemaVersion 1 messages from the right queue, with a correct md5", () => {
    const byQueue: Record<string, [QueueId, z.ZodType]> = {
      "llm-validator.sqs.json": ["validation", ValidationRequest],
      "risk-manager.sqs.json": ["risk", RiskRequest],
      "trade-executor.sqs.json": ["execution", ExecutionRequest],
    };
    for (const [file, [queue, schema]] of Object.entries(byQueue)) {
      const event = load(file) as { Records: { body: string; md5OfBody: string; eventSourceARN: string }[] };
      expect(event.Records.length).toBeGreaterThan(0);
      for (const record of event.Records) {
        const body = schema.parse(JSON.parse(record.body)) as { schemaVersion: number };
        expect(body.schemaVersion).toBe(1);
        expect(record.md5OfBody).toBe(createHash("md5").update(record.body).digest("hex"));
        expect(record.eventSourceARN.endsWith(`:${queueName(queue)}`)).toBe(true);
      }
    }
  });

  it("the schema lookup refuses a body of the wrong message type and an unknown file", () => {
    const risk = load("risk-manager.sqs.json") as { Records: { body: string }[] };
    const asExecution = { Records: risk.Records.map((r) => ({ ...r })) };
    expect(sampleEventSchemaFor("trade-executor.sqs.json").safeParse(asExecution).success).toBe(false);
    expect(() => sampleEventSchemaFor("mystery.json")).toThrow(/mystery\.json/);
    expect(KillSwitchCommand.safeParse({ action: "pause" }).success).toBe(false);
  });
});
