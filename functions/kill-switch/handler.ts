/**
 * The kill switch, for operators: `aws lambda invoke` with {"action":"pause","by":"alice","reason":"..."},
 * {"action":"resume",...} (with "resetPeak" after a drawdown halt) or {"action":"status"}
 * (steps/kill-switch-command.ts). Pausing stops new orders at once: the bridge stops queueing, the
 * risk manager refuses, the executor cancels what is approved but not yet placed.
 */

import { publishStored } from "#runtime/event-bus.js";
import { handlerContext } from "#runtime/handler-context.js";
import { killSwitchCheck } from "#runtime/health-checks.js";
import { recordKillSwitch } from "#runtime/pipeline-metrics.js";
import { killSwitchChangedEvents } from "#steps/chain-events.js";
import { KillSwitchCommand, runKillSwitchCommand } from "#steps/kill-switch-command.js";

const { config, logger, metrics, stores, events, handler: lambda } = handlerContext("kill-switch");
const deps = { killSwitch: stores.killSwitch, portfolio: stores.portfolio, log: logger };
const settings = {
  maxDailyLoss: config.RISK_MAX_DAILY_LOSS,
  maxDrawdown: config.RISK_MAX_DRAWDOWN,
  dailyLossResumesNextDay: config.KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY,
};

export const handler = lambda(
  { health: { store: killSwitchCheck(stores.killSwitch) }, schema: KillSwitchCommand },
  async (command) => {
    if (command.action === "health")
      throw new Error("unreachable: runtime/middleware.ts answers a health check");
    const now = new Date();
    const answer = await runKillSwitchCommand(deps, settings, command, now);
    if (command.action !== "status" && !("outcome" in answer)) {
      recordKillSwitch(metrics, answer.current.active);
      await publishStored(events, killSwitchChangedEvents(answer.current.active, now), logger);
    }
    return answer;
  },
);
