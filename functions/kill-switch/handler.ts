/**
 * The kill switch, for operators: `aws lambda invoke` with {"action":"pause","by":"alice","reason":"..."},
 * {"action":"resume",...} or {"action":"status"}. Pausing stops new orders at once: the bridge stops
 * queueing, the risk manager refuses, the executor cancels what is approved but not yet placed.
 */
import middy from "@middy/core";
import { z } from "zod";
import { parseEvent, runHealthChecks } from "#runtime/lambda-events.js";
import { createLogger, createMetrics, MetricUnit } from "#runtime/observability.js";
import { createStores } from "#store/dynamo/index.js";

export const KillSwitchCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("pause"), by: z.string().min(1), reason: z.string().min(1) }),
  z.object({ action: z.literal("resume"), by: z.string().min(1), reason: z.string().min(1) }),
  z.object({ action: z.literal("status"), auditLimit: z.number().int().positive().max(100).default(10) }),
  z.object({ action: z.literal("health") }),
]);

const logger = createLogger("kill-switch");
const metrics = createMetrics("kill-switch");
const stores = createStores();

export const handler = middy(async (raw: unknown) => {
  const command = parseEvent(KillSwitchCommand, raw, "kill-switch");
  switch (command.action) {
    case "health":
      return runHealthChecks({
        store: async () => `kill switch ${(await stores.killSwitch.get()).active ? "ON" : "off"}`,
      });
    case "status":
      return {
        current: await stores.killSwitch.get(),
        audit: await stores.killSwitch.auditTrail(command.auditLimit),
      };
    default: {
      const active = command.action === "pause";
      const state = await stores.killSwitch.set(active, command.by, command.reason, new Date());
      logger.warn(`kill switch ${active ? "PAUSED trading" : "RESUMED trading"}`, { state });
      const m = metrics.singleMetric();
      m.addMetric("KillSwitchActive", MetricUnit.Count, active ? 1 : 0);
      return { current: state };
    }
  }
});
