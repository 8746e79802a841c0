/**
 * Which schema each sample event in events/ must satisfy, by file name:
 * `<function>.scheduled.json`, `<function>.sqs.json`, `kill-switch.<action>.json`,
 * `position-manager.<action>.json`, `health.json`, `trade-executor.resolve-stuck.json`.
 * SQS events are Lambda SQS batches whose bodies parse through the queue message schemas.
 */
import { z } from "zod";
import { ExecutionRequest, RiskRequest, ValidationRequest } from "#domain/schemas.js";
import { DomainEventDelivery, HealthCheckEvent, ScheduledEvent } from "#runtime/lambda-events.js";
import { ResolveStuckCommand } from "#runtime/operator-commands.js";
import { KillSwitchCommand } from "#steps/kill-switch-command.js";
import { PositionManagerCommand } from "#steps/manual-exit.js";

// the kill switch's own command schema, so the samples cannot drift from what it accepts
export { KillSwitchCommand };

/** A Lambda SQS batch whose every body is JSON that parses through `body`. */
export function sqsBatchOf<T extends z.ZodType>(body: T) {
  return z.object({
    Records: z
      .array(
        z.looseObject({
          messageId: z.string().min(1),
          receiptHandle: z.string().min(1),
          body: z.string().transform((text, ctx) => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              ctx.addIssue({ code: "custom", message: "body is not JSON" });
              return z.NEVER;
            }
            const parsed = body.safeParse(json);
            if (!parsed.success) {
              ctx.addIssue({ code: "custom", message: `body: ${z.prettifyError(parsed.error)}` });
              return z.NEVER;
            }
            return parsed.data as z.infer<T>;
          }),
          attributes: z.looseObject({ ApproximateReceiveCount: z.string().regex(/^\d+$/) }),
          md5OfBody: z.string().regex(/^[0-9a-f]{32}$/),
          eventSource: z.literal("aws:sqs"),
          eventSourceARN: z.string().startsWith("arn:aws:sqs:"),
          awsRegion: z.string().min(1),
        }),
      )
      .min(1),
  });
}

export function sampleEventSchemaFor(file: string): z.ZodType {
  if (file === "health.json") return HealthCheckEvent;
  if (file.endsWith(".scheduled.json")) return ScheduledEvent;
  if (file.endsWith(".candles-closed.json") || file.endsWith(".signals-written.json"))
    return DomainEventDelivery;
  if (file.startsWith("kill-switch.")) return KillSwitchCommand;
  if (file.startsWith("position-manager.")) return PositionManagerCommand;
  switch (file) {
    case "llm-validator.sqs.json":
      return sqsBatchOf(ValidationRequest);
    case "risk-manager.sqs.json":
      return sqsBatchOf(RiskRequest);
    case "trade-executor.sqs.json":
      return sqsBatchOf(ExecutionRequest);
    case "trade-executor.resolve-stuck.json":
      return ResolveStuckCommand;
  }
  throw new Error(
    `events/${file} has no schema: name it <function>.scheduled.json, <function>.candles-closed.json, <function>.signals-written.json, <function>.sqs.json, kill-switch.<action>.json, position-manager.<action>.json or health.json.`,
  );
}
