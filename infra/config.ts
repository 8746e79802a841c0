/**
 * The deployment's knobs, read once from CDK context (cdk.json, overridable with `-c key=value`).
 * Values given on the command line arrive as strings, so numbers and the schedule map are coerced
 * here and a wrong value fails the synth with the key, the value and what was expected.
 */
import type { Node } from "constructs";
import { z } from "zod";
import { TradingMode } from "../functions/shared/domain/schemas.js";

const Minutes = z.coerce.number().int().min(1).max(1440);

const ScheduleMinutes = z.object({
  marketData: Minutes,
  signalGenerator: Minutes,
  signalBridge: Minutes,
  portfolio: Minutes,
});
export type ScheduleMinutes = z.infer<typeof ScheduleMinutes>;

const LogLevel = z.enum(["DEBUG", "INFO", "WARN", "ERROR"]);

const DeploymentConfig = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "expected an AWS region such as us-east-1"),
    resourcePrefix: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, "expected lower-case letters, digits and -"),
    tradingMode: TradingMode,
    gpuInstanceType: z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+$/, "expected an EC2 instance type such as g4dn.xlarge"),
    ollamaModel: z.string().min(1),
    ollamaImage: z.string().min(1),
    llmMinCapacity: z.coerce.number().int().min(0).max(1),
    llmMaxCapacity: z.coerce.number().int().min(1).max(10),
    alarmEmail: z.union([z.literal(""), z.email()]),
    coinbaseSecretArn: z.union([z.literal(""), z.string().startsWith("arn:")]),
    logLevel: LogLevel,
    scheduleMinutes: z.preprocess((v) => (typeof v === "string" ? JSON.parse(v) : v), ScheduleMinutes),
  })
  .refine((c) => c.llmMaxCapacity >= c.llmMinCapacity, {
    message: "llmMaxCapacity must be at least llmMinCapacity",
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

const KEYS = [
  "region",
  "resourcePrefix",
  "tradingMode",
  "gpuInstanceType",
  "ollamaModel",
  "ollamaImage",
  "llmMinCapacity",
  "llmMaxCapacity",
  "alarmEmail",
  "coinbaseSecretArn",
  "logLevel",
  "scheduleMinutes",
] as const;

/** Reads and validates the context keys listed in cdk.json; throws with every wrong key at once. */
export function readDeploymentConfig(node: Node): DeploymentConfig {
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) raw[key] = node.tryGetContext(key);
  const parsed = DeploymentConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map(
        (i) => `  ${i.path.join(".") || "(config)"}: ${i.message} (got ${JSON.stringify(pick(raw, i.path))})`,
      )
      .join("\n");
    throw new Error(
      `Invalid CDK context for the trading pipeline:\n${problems}\n` +
        "Fix the value in cdk.json or pass it with -c key=value (see docs/DEPLOY.md).",
    );
  }
  return parsed.data;
}

function pick(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return cur;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}
