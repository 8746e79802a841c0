/**
 * The pipeline as deployed, run on the local cloud: each function and the validator worker in its
 * own process with its synthesized environment and its own credentials, the harness playing the
 * AWS services around them (EventBridge Scheduler invokes, Lambda's SQS event source mappings poll
 * with the function's role, ECS runs the worker). Every AWS call goes through the recorder.
 */
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { drainQueue } from "#queues/poller.js";
import { bundle } from "./bundle.js";
import {
  FunctionInvocationError,
  type LambdaProcess,
  startLambdaProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "./function-processes.js";
import { type LocalDeployment, type PrincipalName, VALIDATOR } from "./local-deployment.js";

/** The principal the harness's event source mapping for `fn` signs with (Lambda polls with the function's role). */
export const eventSourcePrincipal = (fn: string) => `event-source:${fn}`;

export interface InvocationFailure {
  principal: PrincipalName;
  step: string;
  message: string;
}

export interface DeployedPipeline {
  /** invokes a function (as the scheduler or an operator would); a failure is recorded, not thrown */
  invoke(name: PrincipalName, step: string, event: unknown): Promise<unknown>;
  /** stops a function and starts it again with other settings of its own (a redeploy of its configuration) */
  redeploy(name: PrincipalName, own: Record<string, string>): Promise<void>;
  /** polls `name`'s event source queue with its role and invokes it until the queue is empty */
  runEventSource(name: PrincipalName): Promise<void>;
  /** waits until a queue has no visible and no in-flight message */
  waitUntilEmpty(queueUrl: string, timeoutMs?: number): Promise<void>;
  failures: InvocationFailure[];
  worker: WorkerProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  local: LocalDeployment;
  /** the recorder's endpoint: every SDK client of every process talks to it */
  endpoint: string;
  /** the local servers behind the recorder, for the harness's own bookkeeping calls */
  upstreamSqs: string;
  region: string;
  /** settings the functions need to run here instead of in AWS (test doubles' URLs, model path, ...) */
  overrides: Record<string, string>;
  own?: PrincipalOverrides;
}

/** A function's own settings on top of the common overrides (never a table, queue or secret). */
export type PrincipalOverrides = Partial<Record<PrincipalName, Record<string, string>>>;

/** What Lambda and ECS put into every environment themselves (not from the template). */
function runtimeEnv(principal: string, options: StartOptions): Record<string, string> {
  return {
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ACCESS_KEY_ID: principal,
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: options.endpoint,
    AWS_ENDPOINT_URL_SQS: options.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.endpoint,
  };
}

export function environmentFor(
  name: PrincipalName,
  options: StartOptions,
  own: Record<string, string> = {},
): Record<string, string> {
  const principal = options.local.principals[name];
  const overrides = { ...options.overrides, ...own };
  const forbidden = Object.keys(overrides).filter((k) => options.local.resourceEnvVars.has(k));
  if (forbidden.length > 0) {
    throw new Error(
      `The harness must not set ${forbidden.join(", ")}: tables, queues and secrets come from the template only.`,
    );
  }
  return {
    ...principal.env,
    ...(principal.kind === "lambda" ? { AWS_LAMBDA_FUNCTION_NAME: name } : {}),
    ...overrides,
    ...runtimeEnv(name, options),
  };
}

export async function startDeployedPipeline(options: StartOptions): Promise<DeployedPipeline> {
  const { local } = options;
  const bundles = await bundle({
    runtime: path.join(import.meta.dirname, "lambda-runtime.ts"),
    ...Object.fromEntries(Object.values(local.principals).map((p) => [p.name, p.entry])),
  });
  const lambdas = new Map<PrincipalName, LambdaProcess>();
  const failures: InvocationFailure[] = [];
  const startLambda = async (name: PrincipalName, own: Record<string, string>) => {
    const p = local.principals[name];
    try {
      lambdas.set(
        name,
        await startLambdaProcess({
          name,
          runtime: bundles.files.runtime,
          handlerModule: bundles.files[name],
          timeoutSeconds: p.timeoutSeconds,
          env: environmentFor(name, options, own),
        }),
      );
    } catch (error) {
      lambdas.delete(name);
      failures.push({ principal: name, step: "init", message: (error as Error).message });
    }
  };
  await Promise.all(
    Object.values(local.principals)
      .filter((p) => p.kind === "lambda")
      .map((p) => startLambda(p.name, options.own?.[p.name] ?? {})),
  );
  const worker = startWorkerProcess({
    name: VALIDATOR,
    entry: bundles.files[VALIDATOR],
    env: environmentFor(VALIDATOR, options, options.own?.[VALIDATOR]),
  });
  const harnessSqs = new SQSClient({
    endpoint: options.upstreamSqs,
    region: options.region,
    credentials: { accessKeyId: "harness", secretAccessKey: "local" },
  });
  const eventSourceClients = new Map<string, SQSClient>();

  const invoke = async (name: PrincipalName, step: string, event: unknown) => {
    const fn = lambdas.get(name);
    if (!fn) {
      failures.push({ principal: name, step, message: "not running (its init failed)" });
      return undefined;
    }
    try {
      return await fn.invoke(event);
    } catch (error) {
      const message = error instanceof FunctionInvocationError ? error.message : String(error);
      failures.push({ principal: name, step, message });
      return undefined;
    }
  };

  const depth = async (queueUrl: string) => {
    const res = await harnessSqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: new URL(new URL(queueUrl).pathname, options.upstreamSqs).href,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };

  return {
    invoke,
    async redeploy(name, own) {
      await lambdas.get(name)?.stop();
      await startLambda(name, own);
    },
    async runEventSource(name) {
      const source = local.principals[name].eventSource;
      if (!source) throw new Error(`${name} has no event source mapping`);
      let client = eventSourceClients.get(name);
      if (!client) {
        client = new SQSClient({
          endpoint: options.endpoint,
          region: options.region,
          credentials: { accessKeyId: eventSourcePrincipal(name), secretAccessKey: "local" },
        });
        eventSourceClients.set(name, client);
      }
      await drainQueue(client, {
        queueUrl: source.queueUrl,
        queueArn: source.queueArn,
        maxMessages: source.batchSize,
        // a failed record comes back at once here; in AWS after the visibility timeout
        retryDelaySeconds: 0,
        handler: async (event) => {
          const result = (await invoke(name, `${name} batch`, event)) as SQSBatchResponse | undefined;
          // an invocation error fails the whole batch, as with a Lambda event source mapping
          return result ?? { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
        },
      });
    },
    async waitUntilEmpty(queueUrl, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await depth(queueUrl)) === 0) return;
        const exited = worker.exitCode();
        if (exited !== undefined)
          throw new Error(`the validator worker exited (${exited}):\n${worker.logs()}`);
        if (Date.now() > deadline)
          throw new Error(
            `${queueUrl} still has messages after ${timeoutMs} ms; worker log:\n${worker.logs()}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    failures,
    worker,
    async stop() {
      await Promise.all([...[...lambdas.values()].map((l) => l.stop()), worker.stop()]);
      harnessSqs.destroy();
      for (const c of eventSourceClients.values()) c.destroy();
      bundles.remove();
    },
  };
}

/** The event EventBridge Scheduler sends (the stack's ScheduleTargetInput), stamped `at`. */
export function scheduledEvent(at: Date, region: string, account: string): Record<string, unknown> {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.scheduler",
    account,
    time: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [`arn:aws:scheduler:${region}:${account}:schedule/default/local`],
    detail: {},
  };
}
