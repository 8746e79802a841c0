/**
 * Where domain events go: the EventBridge custom bus named by EVENT_BUS_NAME (the CDK stack sets
 * it on every publishing function), or an in-process bus with the same interface for local runs
 * and tests. Without EVENT_BUS_NAME a deployed function publishes nothing and says so once: the
 * schedules still drive the chain, only slower.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import {
  type DomainEvent,
  type DomainEventType,
  EVENT_SOURCE,
  type EventOf,
  type EventPublisher,
  validDomainEvent,
} from "#domain/events.js";
import type { Log } from "./log.js";

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_BATCH = 10;
/** Entries EventBridge refused (throttled, internal) are sent again this many times. */
const PUT_EVENTS_ATTEMPTS = 3;

/** An EventBridge PutEvents that left entries unpublished after every attempt, with their codes. */
export class EventPublishError extends Error {
  override readonly name = "EventPublishError";
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = new EventBridgeClient({ maxAttempts: 5 }),
    private readonly retryDelayMs = 100,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    const entries = events.map((e) => this.entryOf(validDomainEvent(e)));
    for (let i = 0; i < entries.length; i += PUT_EVENTS_BATCH) {
      await this.put(entries.slice(i, i + PUT_EVENTS_BATCH));
    }
  }

  private entryOf(event: DomainEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      Time: new Date(event.occurredAt),
    };
  }

  /** Sends a batch; entries refused one by one (FailedEntryCount) are sent again, the rest not. */
  private async put(batch: PutEventsRequestEntry[]): Promise<void> {
    let pending = batch;
    let failures: string[] = [];
    for (let attempt = 1; attempt <= PUT_EVENTS_ATTEMPTS && pending.length > 0; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 2)));
      const out = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!out.FailedEntryCount) return;
      const results = out.Entries ?? [];
      failures = [];
      pending = pending.filter((entry, i) => {
        const r = results[i];
        if (r?.ErrorCode === undefined) return false;
        failures.push(`${entry.DetailType}: ${r.ErrorCode} ${r.ErrorMessage ?? ""}`.trim());
        return true;
      });
    }
    if (pending.length > 0) {
      throw new EventPublishError(
        `EventBridge bus ${this.busName} refused ${pending.length} event(s) after ${PUT_EVENTS_ATTEMPTS} attempts ` +
          `(${failures.join("; ")}). The schedules will run the chain anyway; check the bus exists and the ` +
          `function may events:PutEvents on it.`,
      );
    }
  }
}

type Subscriber<T extends DomainEventType> = (event: EventOf<T>) => Promise<void> | void;

/**
 * The local bus: every published event, validated, reaches each subscriber of its type in the order
 * they subscribed, and `publish` resolves once all of them have run (so a local chain runs to its
 * end). A subscriber's error is the publisher's error, as a failed target would be alarmed.
 */
export class InProcessBus implements EventPublisher {
  private readonly subscribers = new Map<DomainEventType, ((event: DomainEvent) => Promise<void> | void)[]>();
  /** every event published, in order (what a test or a local summary reads) */
  readonly published: DomainEvent[] = [];

  subscribe<T extends DomainEventType>(type: T, subscriber: Subscriber<T>): () => void {
    const list = this.subscribers.get(type) ?? [];
    const deliver = (event: DomainEvent) => subscriber(event as EventOf<T>);
    list.push(deliver);
    this.subscribers.set(type, list);
    return () => {
      const at = list.indexOf(deliver);
      if (at >= 0) list.splice(at, 1);
    };
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    const valid = events.map(validDomainEvent);
    for (const event of valid) {
      this.published.push(event);
      for (const subscriber of [...(this.subscribers.get(event.type) ?? [])]) {
        await subscriber(event);
      }
    }
  }
}

/** A function deployed without a bus: nothing is published; it says so once, at the first event. */
export class NoEventBus implements EventPublisher {
  private said = false;
  constructor(private readonly log: Pick<Log, "info">) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    events.forEach(validDomainEvent);
    if (this.said || events.length === 0) return;
    this.said = true;
    this.log.info(
      "EVENT_BUS_NAME is not set: domain events are not published; the schedules drive the chain",
      {
        types: [...new Set(events.map((e) => e.type))],
      },
    );
  }
}

/** The bus EVENT_BUS_NAME names, or none (local invokes, tests). */
export function eventPublisherFromEnv(
  log: Pick<Log, "info">,
  busName = process.env.EVENT_BUS_NAME,
): EventPublisher {
  return busName ? new EventBridgePublisher(busName) : new NoEventBus(log);
}

/**
 * Publishes what a stage has already stored. A bus that refuses the events does not fail the run:
 * the work is done and the schedules pick it up at their next run; the error is logged (ERROR,
 * with the event types) so the log alarm and the operator see the chain slowed down.
 */
export async function publishStored(
  bus: EventPublisher,
  events: readonly DomainEvent[],
  log: Pick<Log, "error">,
): Promise<number> {
  if (events.length === 0) return 0;
  try {
    await bus.publish(events);
    return events.length;
  } catch (error) {
    log.error("domain events not published; the schedules will carry the chain", {
      types: events.map((e) => e.type),
      error: error instanceof Error ? error.message : String(error),
    });
    return 0;
  }
}
