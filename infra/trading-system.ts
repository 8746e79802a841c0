/**
 * The whole system as a parts list: data, the Lambda pipeline, the LLM validator, monitoring;
 * cdk-nag's AWS Solutions pack checks all of it at every synth (unacknowledged findings fail it).
 */
import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { type DeploymentConfig, readDeploymentConfig } from "./config.js";
import { DataStack } from "./stacks/data-stack.js";
import { LlmStack } from "./stacks/llm-stack.js";
import { MonitoringStack } from "./stacks/monitoring-stack.js";
import { PipelineStack } from "./stacks/pipeline-stack.js";

export interface TradingSystem {
  readonly config: DeploymentConfig;
  readonly data: DataStack;
  readonly pipeline: PipelineStack;
  readonly llm: LlmStack;
  readonly monitoring: MonitoringStack;
  readonly nag: AwsSolutionsChecks;
}

export const STACK_NAMES = {
  data: "TradingData",
  pipeline: "TradingPipeline",
  llm: "TradingLlm",
  monitoring: "TradingMonitoring",
} as const;

export function buildTradingSystem(app: App): TradingSystem {
  const config = readDeploymentConfig(app.node);
  // account-agnostic: synth needs no credentials and no context lookups (offline)
  const env = { region: config.region };
  const data = new DataStack(app, STACK_NAMES.data, {
    env,
    config,
    description: "Trading pipeline: tables and the Coinbase key secret",
  });
  const pipeline = new PipelineStack(app, STACK_NAMES.pipeline, {
    env,
    config,
    data,
    description: "Trading pipeline: Lambda functions, queues, schedules",
  });
  const llm = new LlmStack(app, STACK_NAMES.llm, {
    env,
    config,
    data,
    pipeline,
    description:
      config.llmCompute === "gpu-ec2"
        ? "Trading pipeline: Ollama + LLM validator on ECS GPU capacity"
        : "Trading pipeline: Ollama + LLM validator on ECS Fargate (CPU)",
  });
  const monitoring = new MonitoringStack(app, STACK_NAMES.monitoring, {
    env,
    config,
    data,
    pipeline,
    llm,
    description: "Trading pipeline: dashboard, alarms, alarm topic",
  });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  return { config, data, pipeline, llm, monitoring, nag };
}
