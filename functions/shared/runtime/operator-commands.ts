/** Commands operators send to a function by hand (`aws lambda invoke`, `npm run invoke`). */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { z } from "zod";
import { type ExecutionDeps, resolveStuckExecution } from "#steps/execute-trade.js";
import type { PositionManagerDeps, PositionManagerSettings } from "#steps/manage-positions.js";
import { PositionManagerCommand, runPositionCommand } from "#steps/manual-exit.js";
import type { Log } from "./log.js";
import type { OperatorCommand } from "./middleware.js";
import { recordPositionCommand } from "./pipeline-metrics.js";

/** trade-executor: settle a recommendation stuck in EXECUTING against the venue (never places an order). */
export const ResolveStuckCommand = z.object({
  action: z.literal("resolve-stuck"),
  recommendationId: z.string().min(1),
  by: z.string().min(1),
});
export type ResolveStuckCommand = z.infer<typeof ResolveStuckCommand>;

/** The resolve-stuck command as the trade-executor runs it: settles, logs who did it, answers the outcome. */
export const resolveStuckCommand = (deps: ExecutionDeps, log: Log): OperatorCommand<ResolveStuckCommand> => ({
  schema: ResolveStuckCommand,
  run: async (command) => {
    const result = await resolveStuckExecution(deps, command.recommendationId, new Date());
    log.warn("stuck execution resolved by an operator", {
      correlationId: command.recommendationId,
      by: command.by,
      ...result,
    });
    return result;
  },
});

/**
 * position-manager: list the open managed positions, sell one or all by hand (MANUAL exits), or lift
 * the hold of one whose exit was refused too often (steps/manual-exit.ts; it logs who did what).
 */
export const positionManagerCommand = (
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  metrics: Metrics,
): OperatorCommand<PositionManagerCommand> => ({
  schema: PositionManagerCommand,
  run: async (command) => {
    const answer = await runPositionCommand(deps, settings, command, new Date());
    recordPositionCommand(metrics, answer);
    return answer;
  },
});
