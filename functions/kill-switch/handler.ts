/**
 * The kill switch, for operators: `aws lambda invoke` with {"action":"pause","by":"alice","reason":"..."},
 * {"action":"resume",...} or {"action":"status"}. Pausing stops new orders at once: the bridge stops
 * queueing, the risk manager refuses, the executor cancels what is approved but not yet placed.
 */
import { z } from "zod";
import { observability } from "#runtime/handler-context.js";
import { killSwitchCheck } from "#runtime/health-checks.js";
import { recordKillSwitch } from "#runtime/pipeline-metrics.js";
import { createStores } from "#store/dynamo/index.js";

export const KillSwitchCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("pause"), by: z.string().min(1), reason: z.string().min(1) }),
  z.object({ action: z.literal("resume"), by: z.string().min(1), reason: z.string().min(1) }),
  z.object({ action: z.literal("status"), auditLimit: z.number().int().positive().max(100).default(10) }),
  z.object({ action: z.literal("health") }),
]);

const { logger, metrics, handler: lambda } = observability("kill-switch");
const stores = createStores();

export const handler = lambda(
  { health: { store: killSwitchCheck(stores.killSwitch) }, schema: KillSwitchCommand },
  async (command) => {
    if (command.action === "health")
      throw new Error("unreachable: runtime/middleware.ts answers a health check");
    if (command.action === "status") {
      return {
        current: await stores.killSwitch.get(),
        audit: await stores.killSwitch.auditTrail(command.auditLimit),
      };
    }
    const active = command.action === "pause";
    const state = await stores.killSwitch.set(active, command.by, command.reason, new Date());
    logger.warn(`kill switch ${active ? "PAUSED trading" : "RESUMED trading"}`, { state });
    recordKillSwitch(metrics, active);
    return { current: state };
  },
);
