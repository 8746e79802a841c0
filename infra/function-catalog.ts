/**
 * The Lambda functions of the pipeline and their timeouts, free of CDK imports so local tools
 * (bin/invoke.ts) share them with the stacks without loading aws-cdk-lib.
 */
import { QUEUES } from "#queues/definitions.js";

export const PIPELINE_FUNCTION_NAMES = [
  "market-data",
  "signal-generator",
  "signal-bridge",
  "risk-manager",
  "trade-executor",
  "portfolio",
  "position-manager",
  "kill-switch",
] as const;
export type FunctionName = (typeof PIPELINE_FUNCTION_NAMES)[number];

export const FUNCTION_TIMEOUT_SECONDS: Readonly<Record<FunctionName, number>> = {
  "market-data": 90,
  "signal-generator": 120,
  "signal-bridge": 60,
  "risk-manager": QUEUES.risk.consumerTimeoutSeconds,
  "trade-executor": QUEUES.execution.consumerTimeoutSeconds,
  portfolio: 50,
  "position-manager": 50,
  "kill-switch": 15,
};

export function isFunctionName(name: string): name is FunctionName {
  return (PIPELINE_FUNCTION_NAMES as readonly string[]).includes(name);
}
