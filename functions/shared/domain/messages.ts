/** Queue messages: every body carries schemaVersion; consumers refuse any other version. */
import { z } from "zod";
import { IsoTime, ProductId, Side } from "./primitives.js";

/** Version of every queue message body; bump when a message shape changes incompatibly. */
export const SCHEMA_VERSION = 1 as const;

const MessageBase = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  recommendationId: z.string().min(1),
  symbol: ProductId,
  sentAt: IsoTime,
});

export const ValidationRequest = MessageBase.extend({ type: z.literal("ValidateRecommendation") });
export type ValidationRequest = z.infer<typeof ValidationRequest>;

export const RiskRequest = MessageBase.extend({ type: z.literal("AssessRisk") });
export type RiskRequest = z.infer<typeof RiskRequest>;

/**
 * Ids only: the executor re-reads the approved risk decision and trades exactly that. `symbol` and
 * `side` are echoes for routing and logs; one that disagrees with the store refuses the message.
 * Any other field (an amount, a price) is dropped at parsing and never read.
 */
export const ExecutionRequest = MessageBase.extend({
  type: z.literal("ExecuteTrade"),
  side: Side,
});
export type ExecutionRequest = z.infer<typeof ExecutionRequest>;

export const QueueMessage = z.discriminatedUnion("type", [ValidationRequest, RiskRequest, ExecutionRequest]);
export type QueueMessage = z.infer<typeof QueueMessage>;
