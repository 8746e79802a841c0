/**
 * Runs one Lambda handler locally against the local cloud, as `sam local invoke` would run it in
 * AWS: the deployed environment variables, a Lambda context with a deadline, the event from a file.
 * An already-running local cloud (AWS_ENDPOINT_URL_DYNAMODB set) is used as is; otherwise one is
 * started for the call and stopped after it.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { METRICS_NAMESPACE } from "#defaults";
import {
  FUNCTION_TIMEOUT_SECONDS,
  type FunctionName,
  isFunctionName,
  PIPELINE_FUNCTION_NAMES,
} from "#infra/function-catalog.js";
import { ScheduledEvent } from "#runtime/lambda-events.js";
import { COMMON_HELP, helpHint, parseCommandLine, UsageError } from "./cli.js";

export const USAGE = `usage: npm run invoke -- <function> --event events/<file>.json [--live-candles] [--keep-event-time]
  <function>: ${PIPELINE_FUNCTION_NAMES.join(" | ")}
  Runs the function's handler here, as Lambda would (its environment, a context with a deadline), and
  prints what it returns. Uses the local cloud named by AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS,
  else the one \`npm run local\` keeps up, else a fresh one for this call. Market data comes from the
  local replay market unless COINBASE_API_BASE_URL is set or --live-candles asks for Coinbase itself.
  A scheduled event's time is replaced by the current time unless --keep-event-time.
${COMMON_HELP}`;

export const INVOKE_COMMAND = {
  name: "npm run invoke",
  usage: USAGE,
  options: {
    event: { type: "string", short: "e" },
    "live-candles": { type: "boolean" },
    "keep-event-time": { type: "boolean" },
  },
  positionals: true,
} as const;

export interface InvokeArgs {
  readonly functionName: FunctionName;
  readonly eventFile: string;
  /** read Coinbase's public market data, not the local replay market */
  readonly liveCandles?: boolean;
  /** keep a scheduled event's stamped time instead of running it now */
  readonly keepEventTime?: boolean;
}

/** The function and event file of a command line; a mistake is a UsageError saying what to give. */
export function parseInvokeArgs(argv: readonly string[]): InvokeArgs {
  const { values, positionals } = parseCommandLine(INVOKE_COMMAND, argv);
  const [functionName, ...extra] = positionals;
  const choose = `choose one of ${PIPELINE_FUNCTION_NAMES.join(", ")}`;
  if (!functionName) throw new UsageError(`name the function to invoke: ${choose}`);
  if (extra.length > 0)
    throw new UsageError(
      `one function at a time: got ${positionals.join(", ")}; ${helpHint(INVOKE_COMMAND.name)}`,
    );
  if (!isFunctionName(functionName)) {
    const hint =
      functionName === "llm-validator"
        ? "the LLM validator is an ECS worker, not a Lambda: run it with its worker entry point"
        : choose;
    throw new UsageError(`${JSON.stringify(functionName)} is not a Lambda of the pipeline: ${hint}`);
  }
  if (!values.event)
    throw new UsageError(
      `--event <file> is required: the event to invoke ${functionName} with, such as --event events/${functionName}.*.json`,
    );
  return {
    functionName,
    eventFile: values.event,
    ...(values["live-candles"] ? { liveCandles: true } : {}),
    ...(values["keep-event-time"] ? { keepEventTime: true } : {}),
  };
}

/**
 * A scheduled sample event (events/*.scheduled.json) carries a fixed time, which the handler refuses
 * as stale: a local invoke runs it now instead, and says so. Other events are returned as they are.
 */
export function restampScheduledEvent(event: unknown, now: Date): { event: unknown; note?: string } {
  const scheduled = ScheduledEvent.safeParse(event);
  if (!scheduled.success) return { event };
  const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    event: { ...(event as object), time },
    note: `the event's time ${scheduled.data.time} was replaced by the current time ${time} (--keep-event-time keeps it)`,
  };
}

export interface LambdaContextLike {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  done(): void;
  fail(): void;
  succeed(): void;
}

export function lambdaContext(
  functionName: string,
  timeoutSeconds: number,
  now = Date.now,
): LambdaContextLike {
  const deadline = now() + timeoutSeconds * 1000;
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The environment the stacks give every function (infra/constructs/pipeline-function.ts), local values. */
export function functionEnvironment(functionName: string, env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    TRADING_MODE: env.TRADING_MODE ?? "paper",
    POWERTOOLS_SERVICE_NAME: functionName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL ?? env.LOG_LEVEL ?? "INFO",
    LOG_LEVEL: env.LOG_LEVEL ?? "INFO",
    AWS_REGION: env.AWS_REGION ?? "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: functionName,
  };
}

export interface LocalCloudHandle {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface InvokeOptions {
  readonly functionName: string;
  readonly event: unknown;
  /** module exporting `handler`; defaults to functions/<name>/handler.ts */
  readonly handlerModule: string;
  readonly timeoutSeconds: number;
  /** starts a local cloud when none is running; defaults to local/cloud.ts */
  readonly startLocalCloud?: () => Promise<LocalCloudHandle>;
  readonly env?: NodeJS.ProcessEnv;
}

export interface InvokeResult {
  readonly result: unknown;
  readonly startedLocalCloud: boolean;
  readonly durationMs: number;
}

export async function invokeLocally(options: InvokeOptions): Promise<InvokeResult> {
  const env = options.env ?? process.env;
  let cloud: LocalCloudHandle | undefined;
  if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
    const start = options.startLocalCloud ?? defaultStartLocalCloud;
    cloud = await start();
    Object.assign(env, cloud.env);
  }
  try {
    for (const [k, v] of Object.entries(functionEnvironment(options.functionName, env))) env[k] ??= v;
    // imported only now: handlers read their configuration from the environment at init
    const mod = (await import(pathToFileURL(path.resolve(options.handlerModule)).href)) as {
      handler?: (event: unknown, context: LambdaContextLike) => Promise<unknown>;
    };
    if (typeof mod.handler !== "function") {
      throw new Error(`${options.handlerModule} does not export a \`handler\` function.`);
    }
    const started = Date.now();
    const result = await mod.handler(
      options.event,
      lambdaContext(options.functionName, options.timeoutSeconds),
    );
    return { result, startedLocalCloud: cloud !== undefined, durationMs: Date.now() - started };
  } finally {
    await cloud?.stop();
  }
}

async function defaultStartLocalCloud(): Promise<LocalCloudHandle> {
  const { startLocalCloud } = (await import("./cloud.js")) as {
    startLocalCloud: () => Promise<LocalCloudHandle>;
  };
  return startLocalCloud();
}

export function readEventFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read the event file ${file} (${(error as NodeJS.ErrnoException).code}): pass a file from events/`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `the event file ${file} is not JSON (${(error as Error).message}): fix it or pass a file from events/`,
    );
  }
}

export function handlerModuleFor(functionName: FunctionName, repoRoot: string): string {
  return path.join(repoRoot, "functions", functionName, "handler.ts");
}

export { FUNCTION_TIMEOUT_SECONDS };
