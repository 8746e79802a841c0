/**
 * The deployment's knobs, read once from CDK context (cdk.json, overridable with `-c key=value`).
 * Values given on the command line arrive as strings, so numbers and the schedule map are coerced
 * here and a wrong value fails the synth with the key, the value and what was expected.
 */
import type { Node } from "constructs";
import { z } from "zod";
import { TradingMode } from "#domain/schemas.js";
import { DEFAULT_LLM_PARALLEL_REQUESTS, MAX_LLM_PARALLEL_REQUESTS } from "#queues/validator-capacity.js";
import { DEPLOYED_CANDLE_MINUTES, warmWindowProblem } from "./llm-warm-schedule.js";

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

/**
 * Default bound of the end-to-end latency alarm: 15 minutes, above the 6–10 minutes a first
 * validation waits for the GPU task to start with llmWarmMode scale-from-zero (docs/DEPLOY.md); with a warm
 * validator, lower it (chainLatencyAlarmSeconds).
 */
export const DEFAULT_CHAIN_LATENCY_ALARM_SECONDS = 900;

/** the portfolio run drives the automatic kill switch and the "no equity snapshot" alarm */
export const MAX_PORTFOLIO_MINUTES = 60;

const LLM_MIN_CAPACITY_REPLACED =
  "llmMinCapacity is replaced by llmWarmMode: 0 was scale-from-zero (or choose warm-at-close), 1 is always-on; remove llmMinCapacity from cdk.json and the command line";

const LogLevel = z.enum(["DEBUG", "INFO", "WARN", "ERROR"]);

/**
 * When a validator task runs: only while recommendations wait (cold starts of 6-10 minutes on GPU),
 * from a few minutes before each candle close until a window after it, or all the time.
 */
export const LlmWarmMode = z.enum(["scale-from-zero", "warm-at-close", "always-on"]);
export type LlmWarmMode = z.infer<typeof LlmWarmMode>;
/** where Ollama runs: an ECS task on a GPU instance, or a CPU-only Fargate task (low volume) */
export const LlmCompute = z.enum(["gpu-ec2", "cpu-fargate"]);
export type LlmCompute = z.infer<typeof LlmCompute>;
/** Fargate sizes offered for the CPU validator: vCPUs, with 2 GiB of memory per vCPU */
export const FARGATE_VCPU_CHOICES = [4, 8] as const;

/** a day at most; the window check below relates it to the candle period */
const WarmMinutes = z.coerce.number().int().min(1).max(1439);

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
    llmMinCapacity: z.undefined({ error: LLM_MIN_CAPACITY_REPLACED }),
    llmWarmMode: LlmWarmMode.default("warm-at-close"),
    /** warm-at-close: the service's minimum goes to 1 this many minutes before each candle close */
    llmWarmLeadMinutes: WarmMinutes.default(10),
    /** warm-at-close: and back to the idle minimum this many minutes after the close */
    llmWarmAfterCloseMinutes: WarmMinutes.default(15),
    llmCompute: LlmCompute.default("gpu-ec2"),
    /** cpu-fargate: the task's vCPUs (memory 2 GiB per vCPU) */
    llmFargateVcpu: z.coerce
      .number()
      .refine((n) => (FARGATE_VCPU_CHOICES as readonly number[]).includes(n), {
        error: `expected one of ${FARGATE_VCPU_CHOICES.join(", ")} vCPUs`,
      })
      .default(FARGATE_VCPU_CHOICES[0]),
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
    /** the p99 of candle close → order accepted above which the ChainLatency alarm pages, in seconds */
    chainLatencyAlarmSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(DEFAULT_CHAIN_LATENCY_ALARM_SECONDS),
    scheduleMinutes: z.preprocess((v) => (typeof v === "string" ? JSON.parse(v) : v), ScheduleMinutes),
  })
  .superRefine((c, ctx) => {
    if (c.llmWarmMode !== "warm-at-close") return;
    const problem = warmWindowProblem({
      candleMinutes: DEPLOYED_CANDLE_MINUTES,
      leadMinutes: c.llmWarmLeadMinutes,
      afterCloseMinutes: c.llmWarmAfterCloseMinutes,
    });
    if (problem) ctx.addIssue({ code: "custom", path: ["llmWarmLeadMinutes"], message: problem });
  })
  .refine((c) => c.llmCompute !== "cpu-fargate" || c.llmParallelRequests === 1, {
    path: ["llmParallelRequests"],
    message:
      "the CPU validator (llmCompute=cpu-fargate) runs one validation at a time: side by side on the same cores each takes about their sum (35-60 s each on 4 vCPU), which the request timeout does not allow for; set llmParallelRequests=1 or use llmCompute=gpu-ec2",
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

/** validator tasks outside the warm windows (and the floor of queue-depth scaling) */
export function idleValidatorTasks(config: Pick<DeploymentConfig, "llmWarmMode">): 0 | 1 {
  return config.llmWarmMode === "always-on" ? 1 : 0;
}

export const DEPLOYMENT_CONTEXT_KEYS = [
  "region",
  "resourcePrefix",
  "tradingMode",
  "gpuInstanceType",
  "ollamaModel",
  "ollamaImage",
  "llmMinCapacity",
  "llmWarmMode",
  "llmWarmLeadMinutes",
  "llmWarmAfterCloseMinutes",
  "llmCompute",
  "llmFargateVcpu",
  "llmMaxCapacity",
  "llmParallelRequests",
  "alarmEmail",
  "coinbaseSecretArn",
  "coinbaseSecretKmsKeyArn",
  "logLevel",
  "chainLatencyAlarmSeconds",
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
