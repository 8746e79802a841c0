/**
 * The deployment's knobs, read once from CDK context (cdk.json, overridable with `-c key=value`).
 * Values given on the command line arrive as strings, so numbers and the schedule map are coerced
 * here and a wrong value fails the synth with the key, the value and what was expected.
 */
import type { Node } from "constructs";
import { z } from "zod";
import { TradingMode } from "#domain/schemas.js";
import { DEFAULT_LLM_PARALLEL_REQUESTS, MAX_LLM_PARALLEL_REQUESTS } from "#queues/validator-capacity.js";

const Minutes = z.coerce.number().int().min(1).max(1440);

const ScheduleMinutes = z.object({
  marketData: Minutes,
  signalGenerator: Minutes,
  signalBridge: Minutes,
  portfolio: Minutes,
  /** exits act on the venue's bid each run: every minute by default */
  positionManager: Minutes.default(1),
});
export type ScheduleMinutes = z.infer<typeof ScheduleMinutes>;

/** the portfolio run drives the automatic kill switch and the "no equity snapshot" alarm */
export const MAX_PORTFOLIO_MINUTES = 60;

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
    /** validations one GPU runs side by side: OLLAMA_NUM_PARALLEL, the worker's batch, its timeouts */
    llmParallelRequests: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_LLM_PARALLEL_REQUESTS)
      .default(DEFAULT_LLM_PARALLEL_REQUESTS),
    alarmEmail: z.union([z.literal(""), z.email()]),
    coinbaseSecretArn: z.union([z.literal(""), z.string().startsWith("arn:")]),
    /** the customer-managed KMS key of an imported coinbaseSecretArn (empty: AWS managed key) */
    coinbaseSecretKmsKeyArn: z
      .union([
        z.literal(""),
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
            "expected a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/<key-id> (not an alias)",
          ),
      ])
      .default(""),
    logLevel: LogLevel,
    scheduleMinutes: z.preprocess((v) => (typeof v === "string" ? JSON.parse(v) : v), ScheduleMinutes),
  })
  .refine((c) => c.llmMaxCapacity >= c.llmMinCapacity, {
    message: "llmMaxCapacity must be at least llmMinCapacity",
  })
  .refine((c) => c.coinbaseSecretKmsKeyArn === "" || c.coinbaseSecretArn !== "", {
    path: ["coinbaseSecretKmsKeyArn"],
    message:
      "a KMS key is only for an imported secret: set coinbaseSecretArn too, or leave the key empty (the secret this stack creates uses the AWS managed key)",
  })
  .refine((c) => c.scheduleMinutes.portfolio <= MAX_PORTFOLIO_MINUTES, {
    path: ["scheduleMinutes", "portfolio"],
    message: `the portfolio must run at least every ${MAX_PORTFOLIO_MINUTES} minutes: it trips the kill switch, and the equity-snapshot alarm (Metrics Insights, 3 periods within 3 hours) needs it`,
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

export const DEPLOYMENT_CONTEXT_KEYS = [
  "region",
  "resourcePrefix",
  "tradingMode",
  "gpuInstanceType",
  "ollamaModel",
  "ollamaImage",
  "llmMinCapacity",
  "llmMaxCapacity",
  "llmParallelRequests",
  "alarmEmail",
  "coinbaseSecretArn",
  "coinbaseSecretKmsKeyArn",
  "logLevel",
  "scheduleMinutes",
] as const;

/** A context value (cdk.json or -c key=value) the stacks cannot be built with; the message names each. */
export class DeploymentConfigError extends Error {
  override readonly name = "DeploymentConfigError";
}

/** Reads and validates the context keys listed in cdk.json; throws with every wrong key at once. */
export function readDeploymentConfig(node: Node): DeploymentConfig {
  const raw: Record<string, unknown> = {};
  for (const key of DEPLOYMENT_CONTEXT_KEYS) raw[key] = node.tryGetContext(key);
  const parsed = DeploymentConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map(
        (i) => `  ${i.path.join(".") || "(config)"}: ${i.message} (got ${JSON.stringify(pick(raw, i.path))})`,
      )
      .join("\n");
    throw new DeploymentConfigError(
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
