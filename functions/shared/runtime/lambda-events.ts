/** Schemas of the events the scheduled and manual Lambdas accept. */
import { z } from "zod";
import { DOMAIN_EVENT_TYPES, DomainEvent, EVENT_SOURCE } from "#domain/events.js";

export const ScheduledEvent = z.looseObject({
  "detail-type": z.literal("Scheduled Event"),
  source: z.string(),
  time: z.iso.datetime(),
});
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;

export const HealthCheckEvent = z.object({ action: z.literal("health") });
export type HealthCheckEvent = z.infer<typeof HealthCheckEvent>;

/**
 * A domain event as an EventBridge rule delivers it: the envelope's detail-type names the event,
 * its detail is the event itself (validated again here, at receipt), its time is when it happened.
 */
export const DomainEventDelivery = z
  .looseObject({
    "detail-type": z.enum(DOMAIN_EVENT_TYPES as [string, ...string[]]),
    source: z.literal(EVENT_SOURCE),
    time: z.iso.datetime(),
    detail: DomainEvent,
  })
  .refine((e) => e.detail.type === e["detail-type"], {
    message: "detail.type differs from the envelope's detail-type",
    path: ["detail", "type"],
  });
export type DomainEventDelivery = z.infer<typeof DomainEventDelivery>;

/**
 * A schedule, a domain event that triggers the same run, a health check, or (for local runs and
 * manual invokes) an explicit clock.
 */
export const ScheduledOrHealthEvent = z.union([
  HealthCheckEvent,
  ScheduledEvent,
  DomainEventDelivery,
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

/** Default of SCHEDULED_EVENT_MAX_AGE_MINUTES: a few periods of the pipeline's 1–5 minute schedules. */
export const DEFAULT_MAX_EVENT_AGE_MINUTES = 15;
/** A stamped time may run ahead of this function's clock by this much (clock skew), no more. */
export const MAX_EVENT_LEAD_MINUTES = 5;

/** A scheduled (or manual) event stamped with a time too far from now to act on. */
export class ImplausibleEventTimeError extends Error {
  override readonly name = "ImplausibleEventTimeError";
}

export interface RunTimeOptions {
  /** how long after its stamped time an event is still acted on (SCHEDULED_EVENT_MAX_AGE_MINUTES) */
  maxAgeMinutes?: number;
  clock?: () => Date;
}

function span(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} hours`;
  return `${Math.round(minutes / 1440)} days`;
}

/**
 * The time a scheduled run stands for: the schedule's own time, so a retried run reproduces it. An
 * event stamped more than `maxAgeMinutes` ago (a stale retry, a replayed AWS sample, a 1970 epoch)
 * or more than MAX_EVENT_LEAD_MINUTES ahead is refused: acting on it would write history at the
 * wrong time (a 1970 or a 2099 equity snapshot). Without a stamp, the clock's time.
 */
export function runTime(event: ScheduledOrHealthEvent, options: RunTimeOptions = {}): Date {
  const now = (options.clock ?? (() => new Date()))();
  const stamped = "time" in event ? event.time : "now" in event ? event.now : undefined;
  if (stamped === undefined) return now;
  const at = new Date(stamped);
  const maxAgeMinutes = options.maxAgeMinutes ?? DEFAULT_MAX_EVENT_AGE_MINUTES;
  const ageMs = now.getTime() - at.getTime();
  if (ageMs > maxAgeMinutes * 60_000 || -ageMs > MAX_EVENT_LEAD_MINUTES * 60_000) {
    const field = "time" in event ? "time" : "now";
    throw new ImplausibleEventTimeError(
      `The event's ${field} ${stamped} is ${span(ageMs)} ${ageMs > 0 ? "behind" : "ahead of"} this function's clock ` +
        `(${now.toISOString()}); a run is acted on only from ${MAX_EVENT_LEAD_MINUTES} minutes before its time to ` +
        `${maxAgeMinutes} minutes after it (SCHEDULED_EVENT_MAX_AGE_MINUTES). Nothing was done: a stale retry, a ` +
        `replayed or hand-made event, or a wrong clock. To run at the current time, invoke with {"action":"run"}.`,
    );
  }
  return at;
}

export function parseEvent<T>(
  schema: z.ZodType<T>,
  event: unknown,
  functionName: string,
  hint = `Send an EventBridge scheduled event, {"action":"health"} or {"action":"run"} (see events/).`,
): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  throw new Error(
    `${functionName} got an event it does not understand: ${z.prettifyError(parsed.error)}. ${hint}`,
  );
}

/** An object with an `action` other than the schedule's own ("run", "health"): an operator's command. */
export function isOperatorCommandEvent(event: unknown): boolean {
  if (typeof event !== "object" || event === null || !("action" in event)) return false;
  const action = (event as { action: unknown }).action;
  return action !== "run" && action !== "health";
}
