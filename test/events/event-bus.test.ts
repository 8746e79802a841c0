/**
 * Domain events: validated at publish and at receipt; the EventBridge publisher speaks PutEvents
 * (AWS JSON 1.1) to a local server on 127.0.0.1 that refuses some entries, and sends only those
 * again; the in-process bus delivers to subscribers of the type, in order.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DomainEvent, EVENT_SOURCE, InvalidDomainEventError } from "#domain/events.js";
import {
  EventBridgePublisher,
  EventPublishError,
  InProcessBus,
  NoEventBus,
  publishStored,
} from "#runtime/event-bus.js";
import { ScheduledOrHealthEvent } from "#runtime/lambda-events.js";

const at = "2024-04-14T10:00:04.000Z";
const closed: DomainEvent = {
  type: "CandlesClosed",
  occurredAt: at,
  granularity: "ONE_HOUR",
  candleStart: Date.parse("2024-04-14T09:00:00Z") / 1000,
  symbols: ["BTC-USD", "ETH-USD"],
};
const written = (n: number): DomainEvent => ({
  type: "SignalsWritten",
  occurredAt: at,
  signalIds: [`sig-${n}`],
});

interface PutCall {
  target: string | undefined;
  entries: { EventBusName: string; Source: string; DetailType: string; Detail: string; Time: number }[];
}

/** PutEvents as EventBridge answers it; `refuse` decides per entry (and call) whether to fail it. */
function fakeEventBridge(refuse: (detailType: string, call: number) => boolean) {
  const calls: PutCall[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const parsed = JSON.parse(body) as { Entries: PutCall["entries"] };
      calls.push({ target: req.headers["x-amz-target"] as string | undefined, entries: parsed.Entries });
      const results = parsed.Entries.map((e, i) =>
        refuse(e.DetailType, calls.length)
          ? { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" }
          : { EventId: `ev-${calls.length}-${i}` },
      );
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({
          FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
          Entries: results,
        }),
      );
    });
  });
  return { server, calls };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const clientAt = (endpoint: string) =>
  new EventBridgeClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });

describe("EventBridgePublisher (PutEvents on a local server)", () => {
  const flaky = fakeEventBridge((type, call) => type === "SignalsWritten" && call === 1);
  const broken = fakeEventBridge((type) => type === "KillSwitchChanged");
  let flakyUrl = "";
  let brokenUrl = "";
  beforeAll(async () => {
    flakyUrl = await listen(flaky.server);
    brokenUrl = await listen(broken.server);
  });
  afterAll(() => {
    flaky.server.close();
    broken.server.close();
  });

  it("puts each event on the bus with its type as detail-type, in batches of 10, and sends again only what was refused", async () => {
    const bus = new EventBridgePublisher("trading", clientAt(flakyUrl), 1);
    const events = [closed, ...Array.from({ length: 11 }, (_, i) => written(i))];
    await bus.publish(events);
    expect(flaky.calls.map((c) => c.target)).toEqual(Array(flaky.calls.length).fill("AWSEvents.PutEvents"));
    // call 1: 10 entries, 9 SignalsWritten refused → call 2 sends those 9 again; call 3: the last 2
    expect(flaky.calls.map((c) => c.entries.length)).toEqual([10, 9, 2]);
    const first = flaky.calls[0].entries[0];
    expect(first).toMatchObject({
      EventBusName: "trading",
      Source: EVENT_SOURCE,
      DetailType: "CandlesClosed",
    });
    expect(JSON.parse(first.Detail)).toEqual(closed);
    expect(first.Time * 1000).toBe(Date.parse(at));
    const delivered = flaky.calls.flatMap((c, i) => (i === 0 ? c.entries.slice(0, 1) : c.entries));
    expect(delivered.map((e) => JSON.parse(e.Detail))).toEqual(events);
  });

  it("says which events stayed unpublished after every attempt, and why", async () => {
    const bus = new EventBridgePublisher("trading", clientAt(brokenUrl), 1);
    const kill: DomainEvent = { type: "KillSwitchChanged", occurredAt: at, active: true };
    const error = await bus.publish([closed, kill]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toMatch(
      /bus trading refused 1 event\(s\) after 3 attempts \(KillSwitchChanged: ThrottlingException Rate exceeded\)/,
    );
    expect(broken.calls.map((c) => c.entries.length)).toEqual([2, 1, 1]);
  });

  it("refuses an event that breaks its schema before anything is sent", async () => {
    const bus = new EventBridgePublisher("trading", clientAt(flakyUrl), 1);
    const before = flaky.calls.length;
    const bad = { ...closed, symbols: [] } as DomainEvent;
    await expect(bus.publish([bad])).rejects.toThrow(InvalidDomainEventError);
    await expect(bus.publish([bad])).rejects.toThrow(/CandlesClosed does not match its schema \(symbols:/);
    expect(flaky.calls.length).toBe(before);
  });
});

describe("InProcessBus", () => {
  it("delivers each event to the subscribers of its type, in order, and resolves when they are done", async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    bus.subscribe("CandlesClosed", async (e) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(`a:${e.symbols.join("+")}`);
      await bus.publish([written(1)]);
    });
    const off = bus.subscribe("CandlesClosed", (e) => {
      seen.push(`b:${e.candleStart}`);
    });
    bus.subscribe("SignalsWritten", (e) => {
      seen.push(`s:${e.signalIds[0]}`);
    });
    await bus.publish([closed]);
    expect(seen).toEqual(["a:BTC-USD+ETH-USD", "s:sig-1", `b:${Date.parse("2024-04-14T09:00:00Z") / 1000}`]);
    off();
    await bus.publish([closed]);
    expect(seen.filter((s) => s.startsWith("b:"))).toHaveLength(1);
    expect(bus.published.map((e) => e.type)).toEqual([
      "CandlesClosed",
      "SignalsWritten",
      "CandlesClosed",
      "SignalsWritten",
    ]);
  });

  it("validates at publish: a bad event reaches no subscriber", async () => {
    const bus = new InProcessBus();
    let called = false;
    bus.subscribe("SignalsWritten", () => {
      called = true;
    });
    await expect(bus.publish([{ ...written(1), signalIds: [] } as DomainEvent])).rejects.toThrow(
      InvalidDomainEventError,
    );
    expect(called).toBe(false);
  });
});

describe("publishing what a stage stored", () => {
  it("a bus that fails is logged with the event types and does not fail the run", async () => {
    const errors: unknown[][] = [];
    const failing = { publish: async () => Promise.reject(new Error("bus down")) };
    const n = await publishStored(failing, [closed], { error: (...a: unknown[]) => errors.push(a) });
    expect(n).toBe(0);
    expect(errors).toEqual([
      [
        "domain events not published; the schedules will carry the chain",
        { types: ["CandlesClosed"], error: "bus down" },
      ],
    ]);
  });

  it("without EVENT_BUS_NAME nothing is published, and it is said once", async () => {
    const lines: unknown[] = [];
    const none = new NoEventBus({ info: (m: string) => lines.push(m) });
    await none.publish([closed]);
    await none.publish([written(2)]);
    expect(lines).toHaveLength(1);
  });
});

describe("receipt: a rule's delivery is a run of the function, validated again", () => {
  const delivery = (detail: unknown, detailType = "CandlesClosed") => ({
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": detailType,
    source: EVENT_SOURCE,
    account: "123456789012",
    time: "2024-04-14T10:00:04Z",
    region: "us-east-1",
    resources: [],
    detail,
  });

  it("accepts a CandlesClosed delivery, with its time as the run's time", () => {
    const parsed = ScheduledOrHealthEvent.parse(delivery(closed));
    expect("detail" in parsed && parsed.detail).toEqual(closed);
  });

  it("refuses a detail that breaks its schema, or a detail-type that differs from the detail", () => {
    expect(ScheduledOrHealthEvent.safeParse(delivery({ ...closed, candleStart: -1 })).success).toBe(false);
    expect(ScheduledOrHealthEvent.safeParse(delivery(closed, "SignalsWritten")).success).toBe(false);
    expect(ScheduledOrHealthEvent.safeParse({ ...delivery(closed), source: "someone.else" }).success).toBe(
      false,
    );
  });
});
