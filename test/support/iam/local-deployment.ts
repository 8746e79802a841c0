/**
 * The synthesized app "deployed" onto the local cloud, on paper: every table, queue and secret the
 * templates create is mapped to its local counterpart, and every function and the validator task
 * gets what CloudFormation would give it: its environment (intrinsics resolved) and the statements
 * of its role. Nothing is read from the CDK code beyond the templates and logical ids, so what the
 * check sees is what `cdk deploy` would create.
 */
import * as path from "node:path";
import type { CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import {
  FUNCTION_TIMEOUT_SECONDS,
  type FunctionName,
  PIPELINE_FUNCTION_NAMES,
} from "#infra/function-catalog.js";
import type { TradingSystem } from "#infra/trading-system.js";
import type { LocalQueue } from "#local/cloud.js";
import { QUEUE_LIST, type QueueId } from "#queues/definitions.js";
import { TABLE_LIST, type TableId } from "#store/tables.js";
import type { AwsResource } from "./aws-call-recorder.js";
import {
  type CfnTemplate,
  type CfnValue,
  type Deployment,
  type PhysicalResource,
  resolveIntrinsics,
} from "./cloudformation.js";
import { type RolePolicy, rolePolicy } from "./iam-policy.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

/** The name of the validator worker (the ECS task in the LLM stack) among the principals. */
export const VALIDATOR = "llm-validator";
export type PrincipalName = FunctionName | typeof VALIDATOR;

export interface EventSource {
  queueUrl: string;
  queueArn: string;
  batchSize: number;
}

export interface DeployedPrincipal {
  name: PrincipalName;
  kind: "lambda" | "ecs-task";
  /** the environment the template gives it, intrinsics resolved */
  env: Record<string, string>;
  policy: RolePolicy;
  /** Lambda: the handler module; ECS: the worker's entry point */
  entry: string;
  timeoutSeconds: number;
  /** the SQS event source mapping that invokes it, if any */
  eventSource?: EventSource;
}

export interface LocalDeployment {
  deployment: Deployment;
  principals: Record<PrincipalName, DeployedPrincipal>;
  /** the ARN IAM evaluates for a recorded resource */
  arnOf(resource: AwsResource): string;
  /** environment variables that carry a resource's name, URL or ARN (a harness must never set them) */
  resourceEnvVars: ReadonlySet<string>;
}

export interface LocalResources {
  region: string;
  tables: Record<TableId, string>;
  queues: Record<QueueId, LocalQueue>;
  /** the recording endpoint: queue URLs are given on its origin so every call passes through it */
  endpoint: string;
  /** the ARN the Coinbase key secret gets when the data stack creates it */
  secretArn: string;
}

const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

function accountOf(arn: string): string {
  return arn.split(":")[4];
}

export function onEndpoint(url: string, endpoint: string): string {
  const u = new URL(url);
  return `${endpoint}${u.pathname}`;
}

export function deployLocally(system: TradingSystem, local: LocalResources): LocalDeployment {
  const stacks = { data: system.data, pipeline: system.pipeline, llm: system.llm };
  const templates: Record<string, CfnTemplate> = {};
  for (const stack of Object.values(stacks)) {
    templates[stack.stackName] = Template.fromStack(stack).toJSON() as CfnTemplate;
  }
  const account = accountOf(local.queues.validation.arn);
  const tableArn = (name: string) => `arn:aws:dynamodb:${local.region}:${account}:table/${name}`;

  const dataPhysical: Record<string, PhysicalResource> = {};
  for (const def of TABLE_LIST) {
    const name = local.tables[def.id];
    dataPhysical[logicalIdOf(system.data, system.data.tables[def.id])] = {
      ref: name,
      attributes: { Arn: tableArn(name) },
    };
  }
  if (system.data.coinbaseSecret.node.defaultChild) {
    dataPhysical[logicalIdOf(system.data, system.data.coinbaseSecret)] = { ref: local.secretArn };
  }

  const pipelinePhysical: Record<string, PhysicalResource> = {};
  for (const def of QUEUE_LIST) {
    const q = local.queues[def.id];
    const work = system.pipeline.queues[def.id];
    const physical = (url: string, arn: string): PhysicalResource => ({
      ref: onEndpoint(url, local.endpoint),
      attributes: { Arn: arn, QueueName: arn.split(":").pop()!, QueueUrl: onEndpoint(url, local.endpoint) },
    });
    pipelinePhysical[logicalIdOf(system.pipeline, work.queue)] = physical(q.url, q.arn);
    pipelinePhysical[logicalIdOf(system.pipeline, work.deadLetterQueue)] = physical(
      q.deadLetterUrl,
      q.deadLetterArn,
    );
  }

  const deployment: Deployment = {
    templates,
    physical: {
      [system.data.stackName]: dataPhysical,
      [system.pipeline.stackName]: pipelinePhysical,
    },
    region: local.region,
    account,
  };

  const pipelineName = system.pipeline.stackName;
  const pipelineTemplate = templates[pipelineName];
  const resolve = (stack: string, value: CfnValue) => resolveIntrinsics(deployment, stack, value);

  const principals = {} as Record<PrincipalName, DeployedPrincipal>;
  for (const name of PIPELINE_FUNCTION_NAMES) {
    const fnLogicalId = system.pipeline.getLogicalId(
      system.pipeline.functions[name].fn.node.defaultChild as CfnElement,
    );
    const fn = pipelineTemplate.Resources[fnLogicalId];
    const roleRef = fn.Properties.Role as { "Fn::GetAtt": [string, string] };
    const mapping = Object.values(pipelineTemplate.Resources).find(
      (r) => r.Type === "AWS::Lambda::EventSourceMapping" && r.Properties?.FunctionName?.Ref === fnLogicalId,
    );
    let eventSource: EventSource | undefined;
    if (mapping) {
      const queueArn = resolve(pipelineName, mapping.Properties.EventSourceArn) as string;
      const queue = Object.values(local.queues).find((q) => q.arn === queueArn);
      if (!queue) throw new Error(`${name}'s event source ${queueArn} is not a local queue`);
      eventSource = {
        queueUrl: onEndpoint(queue.url, local.endpoint),
        queueArn,
        batchSize: mapping.Properties.BatchSize ?? 10,
      };
    }
    principals[name] = {
      name,
      kind: "lambda",
      env: stringEnv(name, resolve(pipelineName, fn.Properties.Environment?.Variables ?? {})),
      policy: rolePolicy(deployment, pipelineName, roleRef["Fn::GetAtt"][0]),
      entry: path.join(REPO_ROOT, "functions", name, "handler.ts"),
      timeoutSeconds: fn.Properties.Timeout ?? FUNCTION_TIMEOUT_SECONDS[name],
      eventSource,
    };
  }

  const llmName = system.llm.stackName;
  const taskDef = Object.values(templates[llmName].Resources).find(
    (r) => r.Type === "AWS::ECS::TaskDefinition",
  );
  if (!taskDef) throw new Error("the LLM stack has no task definition");
  const container = (taskDef.Properties.ContainerDefinitions as CfnValue[]).find(
    (c) => c.Name === "validator",
  );
  const taskRoleRef = taskDef.Properties.TaskRoleArn as { "Fn::GetAtt": [string, string] };
  const containerEnv: Record<string, string> = {};
  for (const { Name, Value } of container.Environment as { Name: string; Value: CfnValue }[]) {
    containerEnv[Name] = resolve(llmName, Value);
  }
  principals[VALIDATOR] = {
    name: VALIDATOR,
    kind: "ecs-task",
    env: stringEnv(VALIDATOR, containerEnv),
    policy: rolePolicy(deployment, llmName, taskRoleRef["Fn::GetAtt"][0]),
    entry: path.join(REPO_ROOT, "functions", "llm-validator", "worker.ts"),
    timeoutSeconds: 0,
  };

  const queueByName = new Map(
    Object.values(local.queues).flatMap((q) => [
      [q.arn.split(":").pop()!, q.arn],
      [q.deadLetterArn.split(":").pop()!, q.deadLetterArn],
    ]),
  );
  const arnOf = (resource: AwsResource): string => {
    switch (resource.kind) {
      case "table":
        return resource.index
          ? `${tableArn(resource.name)}/index/${resource.index}`
          : tableArn(resource.name);
      case "queue":
        // a queue that does not exist locally still has the ARN its name would have
        return queueByName.get(resource.name) ?? `arn:aws:sqs:${local.region}:${account}:${resource.name}`;
      case "secret":
        return resource.id;
    }
  };

  const resourceEnvVars = new Set<string>([
    ...TABLE_LIST.map((t) => t.envVar),
    ...QUEUE_LIST.map((q) => q.urlEnvVar),
    "VALIDATION_QUEUE_ARN",
    "COINBASE_SECRET_ARN",
  ]);
  return { deployment, principals, arnOf, resourceEnvVars };
}

function stringEnv(principal: string, env: Record<string, CfnValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== "string")
      throw new Error(`${principal}: ${k} resolved to ${JSON.stringify(v)}, not a string`);
    out[k] = v;
  }
  return out;
}
