/** Schemas of the events the scheduled and manual Lambdas accept. */
import { z } from "zod";

export const ScheduledEvent = z.looseObject({
  "detail-type": z.literal("Scheduled Event"),
  source: z.string(),
  time: z.iso.datetime(),
});
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;

export const HealthCheckEvent = z.object({ action: z.literal("health") });
export type HealthCheckEvent = z.infer<typeof HealthCheckEvent>;

/** A schedule, a health check, or (for local runs and manual invokes) an explicit clock. */
export const ScheduledOrHealthEvent = z.union([
  HealthCheckEvent,
  ScheduledEvent,
  z.object({ action: z.literal("run"), now: z.iso.datetime().optional() }),
]);
export type ScheduledOrHealthEvent = z.infer<typeof ScheduledOrHealthEvent>;

export interface HealthReport {
  healthy: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export async function runHealthChecks(checks: Record<string, () => Promise<string>>): Promise<HealthReport> {
  const results: HealthReport["checks"] = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        results[name] = { ok: true, detail: await check() };
      } catch (error) {
        results[name] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return { healthy: Object.values(results).every((r) => r.ok), checks: results };
}

/** The time a scheduled run stands for: the schedule's own time, so a retried run reproduces it. */
export function runTime(event: ScheduledOrHealthEvent, clock: () => Date = () => new Date()): Date {
  if ("time" in event) return new Date(event.time);
  if ("now" in event && event.now) return new Date(event.now);
  return clock();
}

export function parseEvent<T>(schema: z.ZodType<T>, event: unknown, functionName: string): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  throw new Error(
    `${functionName} got an event it does not understand: ${z.prettifyError(parsed.error)}. ` +
      `Send an EventBridge scheduled event, {"action":"health"} or {"action":"run"} (see events/).`,
  );
}
