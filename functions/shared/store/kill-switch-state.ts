/** The kill switch record a store writes for KillSwitchStore.set: one rule for every adapter. */
import { KillSwitch } from "#domain/schemas.js";
import type { KillSwitchTripRecord } from "./ports.js";

export function killSwitchState(
  active: boolean,
  changedBy: string,
  reason: string,
  now: Date,
  trip?: KillSwitchTripRecord,
  options: { peakResetAt?: Date } = {},
): KillSwitch {
  return KillSwitch.parse({
    active,
    changedBy,
    reason,
    changedAt: now.toISOString(),
    // an automatic trip's kind and when it lifts itself; an operator's change carries neither
    ...(active && trip ? { kind: trip.kind } : {}),
    ...(active && trip?.resumeAt ? { resumeAt: trip.resumeAt.toISOString() } : {}),
    ...(options.peakResetAt ? { peakResetAt: options.peakResetAt.toISOString() } : {}),
  });
}
