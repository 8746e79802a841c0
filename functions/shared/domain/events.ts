/**
 * Domain events: what happened in the pipeline, published on one bus (EventBridge custom bus
 * `trading` when deployed, an in-process bus locally) and validated at publish and at receipt.
 *
 * Each event carries ids and the few facts a subscriber needs to decide whether to act, never a
 * whole record: a subscriber reads the record from its table, so an event can never be a stale
 * or forged copy of the truth. The chain reacts to them (CandlesClosed → signal generation and the
 * position manager; SignalsWritten → the bridge); later subscribers (the operator API's live
 * stream, notifications) read the same events.
 */
import { z } from "zod";
import { Granularity } from "./market.js";
import { IsoTime, ProductId, UnixSeconds } from "./primitives.js";

/** The `source` of every event the pipeline publishes; rules match on it. */
export const EVENT_SOURCE = "trading.pipeline";

const Id = z.string().min(1).max(200);
const base = { occurredAt: IsoTime };

export const CandlesClosed = z.object({
  type: z.literal("CandlesClosed"),
  ...base,
  granularity: Granularity,
  /** start (Unix seconds) of the newest closed candle stored for these symbols */
  candleStart: UnixSeconds,
  symbols: z.array(ProductId).min(1),
});
export const SignalsWritten = z.object({
  type: z.literal("SignalsWritten"),
  ...base,
  signalIds: z.array(Id).min(1),
});
export const RecommendationQueued = z.object({
  type: z.literal("RecommendationQueued"),
  ...base,
  recommendationId: Id,
  signalId: Id.optional(),
});
export const RecommendationDecided = z.object({
  type: z.literal("RecommendationDecided"),
  ...base,
  recommendationId: Id,
  by: z.enum(["llm", "risk"]),
  approved: z.boolean(),
});
export const OrderPlaced = z.object({
  type: z.literal("OrderPlaced"),
  ...base,
  recommendationId: Id,
  clientOrderId: Id,
  orderId: Id,
});
export const OrderFilled = z.object({
  type: z.literal("OrderFilled"),
  ...base,
  orderId: Id,
  clientOrderId: Id.optional(),
});
export const PositionOpened = z.object({
  type: z.literal("PositionOpened"),
  ...base,
  positionId: Id,
  symbol: ProductId,
});
export const PositionClosed = z.object({
  type: z.literal("PositionClosed"),
  ...base,
  positionId: Id,
  symbol: ProductId,
});
export const KillSwitchChanged = z.object({
  type: z.literal("KillSwitchChanged"),
  ...base,
  active: z.boolean(),
});

export const DomainEvent = z.discriminatedUnion("type", [
  CandlesClosed,
  SignalsWritten,
  RecommendationQueued,
  RecommendationDecided,
  OrderPlaced,
  OrderFilled,
  PositionOpened,
  PositionClosed,
  KillSwitchChanged,
]);
export type DomainEvent = z.infer<typeof DomainEvent>;
export type DomainEventType = DomainEvent["type"];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

export const DOMAIN_EVENT_TYPES = DomainEvent.options.map((o) => o.shape.type.value) as DomainEventType[];

/** Publishes domain events; an implementation validates each one before it leaves. */
export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

/** A domain event that fails its schema: a bug in the publisher, said with the event and the fields. */
export class InvalidDomainEventError extends Error {
  override readonly name = "InvalidDomainEventError";
}

/** The event as its schema reads it, or an InvalidDomainEventError naming the event and its bad fields. */
export function validDomainEvent(event: unknown): DomainEvent {
  const parsed = DomainEvent.safeParse(event);
  if (parsed.success) return parsed.data;
  const type = typeof event === "object" && event !== null && "type" in event ? String(event.type) : "?";
  const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ");
  throw new InvalidDomainEventError(
    `Domain event ${type} does not match its schema (${fields}); it was not published. ` +
      `Fix the code that builds it (functions/shared/domain/events.ts lists every event's fields).`,
  );
}
