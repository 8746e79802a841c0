/**
 * The synthesized CloudFormation of the whole app, built ONCE (esbuild bundles every function):
 * queues, event sources, tables, schedules, least privilege, the GPU task, asset sizes, cdk-nag.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Queue } from "aws-cdk-lib/aws-sqs";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cdkJsonContext } from "#infra/cli-context.js";
import { buildTradingSystem, type TradingSystem } from "#infra/trading-system.js";
import { LAMBDA_UNZIPPED_LIMIT_BYTES, measureStackAssets } from "#local/asset-sizes.js";
import { deadLetterQueueName, QUEUE_LIST, queueName, visibilityTimeoutSeconds } from "#queues/definitions.js";
import { TABLE_LIST } from "#store/tables.js";

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is walked by path in assertions
type Json = Record<string, any>;
type Resource = { Type: string; Properties: Json; DependsOn?: unknown };

let outdir: string;
let app: App;
let system: TradingSystem;
let t: { data: Template; pipeline: Template; llm: Template; monitoring: Template };

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), "trading-infra-test-"));
  app = new App({ context: cdkJsonContext(), outdir });
  system = buildTradingSystem(app);
  app.synth(); // runs cdk-nag as a validation plugin: throws on any unacknowledged finding
  t = {
    data: Template.fromStack(system.data),
    pipeline: Template.fromStack(system.pipeline),
    llm: Template.fromStack(system.llm),
    monitoring: Template.fromStack(system.monitoring),
  };
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const resources = (tpl: Template, type: string): [string, Resource][] =>
  Object.entries(tpl.findResources(type) as Record<string, Resource>);

const fnLogicalId = (name: keyof TradingSystem["pipeline"]["functions"]): string =>
  system.pipeline.getLogicalId(system.pipeline.functions[name].fn.node.defaultChild as never);
const roleLogicalId = (name: keyof TradingSystem["pipeline"]["functions"]): string =>
  system.pipeline.getLogicalId(system.pipeline.functions[name].role.node.defaultChild as never);

/** logical id of the queue whose QueueName is `name` in the pipeline template */
function queueLogicalId(name: string): string {
  const hit = resources(t.pipeline, "AWS::SQS::Queue").find(([, r]) => r.Properties.QueueName === name);
  if (!hit) throw new Error(`no queue named ${name}`);
  return hit[0];
}

/** The exported name under which the pipeline stack exports an attribute of `logicalId`. */
function exportNamesOf(logicalId: string, attribute: string): string[] {
  const outputs = t.pipeline.toJSON().Outputs as Record<string, { Value: Json; Export?: { Name: string } }>;
  return Object.values(outputs)
    .filter((o) => JSON.stringify(o.Value) === JSON.stringify({ "Fn::GetAtt": [logicalId, attribute] }))
    .map((o) => o.Export!.Name);
}

function statementsOf(policy: Resource): Json[] {
  const doc = policy.Properties.PolicyDocument;
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}
const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe("queues", () => {
  it("each chain queue has a DLQ with the definition's maxReceiveCount and visibility = 6x its consumer timeout", () => {
    for (const def of QUEUE_LIST) {
      const id = queueLogicalId(queueName(def.id));
      const q = t.pipeline.toJSON().Resources[id] as Resource;
      expect(q.Properties.VisibilityTimeout).toBe(visibilityTimeoutSeconds(def));
      expect(q.Properties.VisibilityTimeout).toBe(6 * def.consumerTimeoutSeconds);
      expect(q.Properties.RedrivePolicy.maxReceiveCount).toBe(def.maxReceiveCount);
      expect(q.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
        "Fn::GetAtt": [queueLogicalId(deadLetterQueueName(def.id)), "Arn"],
      });
      expect(q.Properties.SqsManagedSseEnabled).toBe(true);
      expect(q.Properties.MessageRetentionPeriod).toBe(def.messageRetentionDays * 86_400);
    }
  });

  it("the Lambda consumers' timeouts are the definitions' consumer timeouts", () => {
    const fns = t.pipeline.toJSON().Resources as Record<string, Resource>;
    expect(fns[fnLogicalId("risk-manager")].Properties.Timeout).toBe(
      QUEUE_LIST.find((q) => q.id === "risk")!.consumerTimeoutSeconds,
    );
    expect(fns[fnLogicalId("trade-executor")].Properties.Timeout).toBe(
      QUEUE_LIST.find((q) => q.id === "execution")!.consumerTimeoutSeconds,
    );
  });

  it("every queue policy denies non-TLS access", () => {
    const policies = resources(t.pipeline, "AWS::SQS::QueuePolicy");
    const covered = new Set(
      policies
        .filter(([, p]) =>
          statementsOf(p).some(
            (s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
          ),
        )
        .flatMap(([, p]) => p.Properties.Queues.map((q: Json) => q.Ref)),
    );
    for (const [id] of resources(t.pipeline, "AWS::SQS::Queue")) expect(covered).toContain(id);
  });

  it("every queue and every DLQ has an alarm in the monitoring stack", () => {
    const alarmDims = resources(t.monitoring, "AWS::CloudWatch::Alarm").flatMap(([, a]) =>
      (a.Properties.Dimensions ?? []).filter((d: Json) => d.Name === "QueueName").map((d: Json) => d.Value),
    );
    const imported = new Set(alarmDims.map((v) => v["Fn::ImportValue"]).filter(Boolean));
    for (const [id] of resources(t.pipeline, "AWS::SQS::Queue")) {
      const names = exportNamesOf(id, "QueueName");
      expect(
        names.some((n) => imported.has(n)),
        `no alarm on queue ${id}`,
      ).toBe(true);
    }
  });

  it("every SQS event source reports batch item failures; the risk manager runs one at a time", () => {
    const mappings = resources(t.pipeline, "AWS::Lambda::EventSourceMapping");
    expect(mappings).toHaveLength(2);
    for (const [, m] of mappings)
      expect(m.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    // one at a time through a FIFO queue with one message group, not reserved concurrency
    const risk = t.pipeline.toJSON().Resources[fnLogicalId("risk-manager")] as Resource;
    expect(risk.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const riskQueue = t.pipeline.toJSON().Resources[queueLogicalId(queueName("risk"))] as Resource;
    expect(riskQueue.Properties.FifoQueue).toBe(true);
  });
});

describe("tables", () => {
  it("are built from the shared definitions: keys, GSIs, on-demand, PITR, encryption, TTL, retained", () => {
    const tables = resources(t.data, "AWS::DynamoDB::Table");
    expect(tables).toHaveLength(TABLE_LIST.length);
    for (const def of TABLE_LIST) {
      const hit = tables.find(
        ([, r]) =>
          r.Properties.KeySchema[0].AttributeName === def.partitionKey.name &&
          sortKeyOf(r) === def.sortKey?.name,
      );
      expect(hit, `table ${def.id}`).toBeDefined();
      const [logicalId, table] = hit!;
      expect(table.Properties.BillingMode).toBe("PAY_PER_REQUEST");
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.SSESpecification.SSEEnabled).toBe(true);
      expect(table.Properties.TimeToLiveSpecification).toEqual(
        def.timeToLiveAttribute ? { AttributeName: def.timeToLiveAttribute, Enabled: true } : undefined,
      );
      expect((table.Properties.GlobalSecondaryIndexes ?? []).map((g: Json) => g.IndexName).sort()).toEqual(
        def.globalSecondaryIndexes.map((g) => g.indexName).sort(),
      );
      expect((t.data.toJSON().Resources[logicalId] as Json).DeletionPolicy).toBe("Retain");
    }
  });
});

function sortKeyOf(r: Resource): string | undefined {
  return r.Properties.KeySchema.find((k: Json) => k.KeyType === "RANGE")?.AttributeName;
}

describe("schedules", () => {
  it("run market data at each candle close and every 15 minutes, signals every 15 (events drive both), bridge, portfolio and position manager every minute, with retries and a DLQ", () => {
    const schedules = resources(t.pipeline, "AWS::Scheduler::Schedule");
    const expected: [Parameters<typeof fnLogicalId>[0], string][] = [
      ["market-data", "cron(0 * * * ? *)"],
      ["market-data", "rate(15 minutes)"],
      ["signal-generator", "rate(15 minutes)"],
      ["signal-bridge", "rate(1 minute)"],
      ["portfolio", "rate(1 minute)"],
      ["position-manager", "rate(1 minute)"],
    ];
    expect(schedules).toHaveLength(expected.length);
    const dlq = system.pipeline.getLogicalId(
      system.pipeline.scheduleDeadLetterQueue.node.defaultChild as never,
    );
    for (const [name, rate] of expected) {
      const hit = schedules.find(
        ([, s]) =>
          JSON.stringify(s.Properties.Target.Arn).includes(fnLogicalId(name)) &&
          s.Properties.ScheduleExpression === rate,
      );
      expect(hit, `schedule ${rate} for ${name}`).toBeDefined();
      const props = hit![1].Properties;
      expect(props.Target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
      expect(props.Target.DeadLetterConfig.Arn).toEqual({ "Fn::GetAtt": [dlq, "Arn"] });
      expect(JSON.stringify(props.Target.Input)).toContain('\\"detail-type\\":\\"Scheduled Event\\"');
      expect(JSON.stringify(props.Target.Input)).toContain("<aws.scheduler.scheduled-time>");
    }
  });
});

describe("least privilege", () => {
  it("only the trade executor, the portfolio function and the position manager can read the Coinbase secret", () => {
    const readers = new Set<string>();
    for (const tpl of Object.values(t)) {
      for (const [, policy] of resources(tpl, "AWS::IAM::Policy")) {
        const reads = statementsOf(policy).some((s) =>
          asList(s.Action).some(
            (a: string) => a.startsWith("secretsmanager:Get") || a === "secretsmanager:*",
          ),
        );
        if (reads) for (const role of policy.Properties.Roles) readers.add(role.Ref);
      }
    }
    expect([...readers].sort()).toEqual(
      [roleLogicalId("portfolio"), roleLogicalId("position-manager"), roleLogicalId("trade-executor")].sort(),
    );
  });

  it("no IAM policy allows a wildcard action on a wildcard resource, and no Lambda role has a managed policy", () => {
    for (const tpl of Object.values(t)) {
      for (const [id, policy] of resources(tpl, "AWS::IAM::Policy")) {
        for (const s of statementsOf(policy)) {
          const anyResource = asList(s.Resource).includes("*");
          const wildcardAction = asList(s.Action).some((a: string) => a === "*" || a.endsWith(":*"));
          expect(anyResource && wildcardAction, `${id}: ${JSON.stringify(s)}`).toBe(false);
        }
      }
    }
    for (const name of Object.keys(
      system.pipeline.functions,
    ) as (keyof TradingSystem["pipeline"]["functions"])[]) {
      const role = t.pipeline.toJSON().Resources[roleLogicalId(name)] as Resource;
      expect(role.Properties.ManagedPolicyArns, name).toBeUndefined();
    }
  });

  it("table grants name the table and its indexes, never Scan and never index/*", () => {
    for (const tpl of [t.pipeline, t.llm]) {
      for (const [, policy] of resources(tpl, "AWS::IAM::Policy")) {
        for (const s of statementsOf(policy)) {
          const actions = asList(s.Action) as string[];
          if (!actions.some((a) => a.startsWith("dynamodb:"))) continue;
          expect(actions).not.toContain("dynamodb:Scan");
          expect(JSON.stringify(s.Resource)).not.toContain("index/*");
        }
      }
    }
  });
});

describe("functions", () => {
  it("run Node 22 on ARM64 with X-Ray, a one-month log group and the Powertools environment", () => {
    const fns = resources(t.pipeline, "AWS::Lambda::Function");
    expect(fns).toHaveLength(8);
    const logGroups = Object.fromEntries(resources(t.pipeline, "AWS::Logs::LogGroup"));
    for (const [id, fn] of fns) {
      const p = fn.Properties;
      expect(p.Runtime, id).toBe("nodejs22.x");
      expect(p.Architectures).toEqual(["arm64"]);
      expect(p.TracingConfig).toEqual({ Mode: "Active" });
      expect(p.Handler).toBe("index.handler");
      expect(logGroups[p.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(30);
      const env = p.Environment.Variables;
      expect(env).toMatchObject({
        TRADING_MODE: "paper",
        POWERTOOLS_METRICS_NAMESPACE: "TradingPipeline",
        NODE_OPTIONS: "--enable-source-maps",
      });
      expect(env.POWERTOOLS_SERVICE_NAME).toBeTruthy();
      expect(env.POWERTOOLS_LOG_LEVEL).toBe(env.LOG_LEVEL);
    }
    const executor = t.pipeline.toJSON().Resources[fnLogicalId("trade-executor")] as Resource;
    expect(executor.Properties.Environment.Variables.COINBASE_SECRET_ARN).toBeDefined();
    const signals = t.pipeline.toJSON().Resources[fnLogicalId("signal-generator")] as Resource;
    expect(signals.Properties.Layers).toHaveLength(1);
    expect(signals.Properties.Environment.Variables.MODEL_PATH).toBe("/var/task/models/signal-model.onnx");
  });

  it("the signal generator's code + layers stays under 250 MB unzipped; the layer holds only linux/arm64 binaries", () => {
    const sizes = measureStackAssets(outdir, system.pipeline.artifactId);
    const signal = sizes.find((s) => s.logicalId === fnLogicalId("signal-generator"))!;
    expect(signal.layers).toHaveLength(1);
    expect(signal.layers[0].bytes).toBeGreaterThan(5 * 1024 * 1024); // the native runtime is really in it
    expect(signal.totalBytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
    for (const s of sizes) expect(s.withinLimit, s.logicalId).toBe(true);

    const layerDir = layerAssetDir();
    const binRoot = path.join(layerDir, "nodejs", "node_modules", "onnxruntime-node", "bin");
    const platformDirs = readdirSync(binRoot).flatMap((napi) =>
      readdirSync(path.join(binRoot, napi)).flatMap((platform) =>
        readdirSync(path.join(binRoot, napi, platform)).map((arch) => `${platform}/${arch}`),
      ),
    );
    expect([...new Set(platformDirs)]).toEqual(["linux/arm64"]);
  });

  it("the signal generator ships the model and its card next to its bundle", () => {
    const dir = codeAssetDir(fnLogicalId("signal-generator"));
    for (const f of ["signal-model.onnx", "signal-model.card.json"]) {
      expect(statSync(path.join(dir, "models", f)).size).toBeGreaterThan(0);
    }
    expect(readdirSync(dir)).toContain("index.mjs");
  });
});

function assetPathFor(s3Key: string): string {
  const manifest = JSON.parse(
    readFileSync(path.join(outdir, `${system.pipeline.artifactId}.assets.json`), "utf8"),
  ) as Json;
  return path.join(outdir, manifest.files[s3Key.replace(/\.zip$/, "")].source.path);
}
function codeAssetDir(logicalId: string): string {
  const fn = t.pipeline.toJSON().Resources[logicalId] as Resource;
  return assetPathFor(fn.Properties.Code.S3Key);
}
function layerAssetDir(): string {
  const [, layer] = resources(t.pipeline, "AWS::Lambda::LayerVersion")[0];
  return assetPathFor(layer.Properties.Content.S3Key);
}

describe("LLM stack", () => {
  it("runs Ollama with one GPU and the worker after Ollama is healthy", () => {
    const [[, task]] = resources(t.llm, "AWS::ECS::TaskDefinition");
    const containers = task.Properties.ContainerDefinitions as Json[];
    const ollama = containers.find((c) => c.Name === "ollama")!;
    const worker = containers.find((c) => c.Name === "validator")!;
    expect(ollama.ResourceRequirements).toEqual([{ Type: "GPU", Value: "1" }]);
    expect(ollama.HealthCheck.Command[0]).toBe("CMD-SHELL");
    expect(ollama.Command[0]).toContain("ollama serve");
    expect(ollama.Environment).toContainEqual({ Name: "OLLAMA_MODEL", Value: "phi3:3.8b" });
    expect(worker.DependsOn).toEqual([{ ContainerName: "ollama", Condition: "HEALTHY" }]);
    expect(worker.Environment).toContainEqual({ Name: "OLLAMA_HOST", Value: "http://localhost:11434" });
    expect(task.Properties.NetworkMode).toBe("host");
  });

  it("uses the GPU ECS AMI on g4dn.xlarge and admits no inbound traffic", () => {
    const [[, lt]] = resources(t.llm, "AWS::EC2::LaunchTemplate");
    const data = lt.Properties.LaunchTemplateData;
    expect(data.InstanceType).toBe("g4dn.xlarge");
    expect(JSON.stringify(t.llm.toJSON().Parameters)).toContain(
      "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/",
    );
    expect(data.MetadataOptions.HttpTokens).toBe("required");
    for (const [, sg] of resources(t.llm, "AWS::EC2::SecurityGroup")) {
      expect(sg.Properties.SecurityGroupIngress ?? []).toEqual([]);
    }
    expect(resources(t.llm, "AWS::EC2::SecurityGroupIngress")).toHaveLength(0);
    expect(resources(t.llm, "AWS::EC2::NatGateway")).toHaveLength(0);
  });

  it("scales the service on the validation queue backlog, from the configured minimum", () => {
    const [[, target]] = resources(t.llm, "AWS::ApplicationAutoScaling::ScalableTarget");
    expect(target.Properties.MinCapacity).toBe(0);
    const policies = resources(t.llm, "AWS::ApplicationAutoScaling::ScalingPolicy");
    expect(policies.every(([, p]) => p.Properties.PolicyType === "StepScaling")).toBe(true);
    const alarms = resources(t.llm, "AWS::CloudWatch::Alarm");
    expect(JSON.stringify(alarms)).toContain("ApproximateNumberOfMessagesVisible");
    const scaleOut = alarms.find(
      ([, a]) => a.Properties.ComparisonOperator === "GreaterThanOrEqualToThreshold",
    );
    expect(scaleOut![1].Properties.Threshold).toBe(1);
    expect(scaleOut![1].Properties.EvaluationPeriods).toBe(1);
    // whatever lowers the task count only acts after 15 idle minutes
    for (const [policyId, policy] of policies) {
      const c = policy.Properties.StepScalingPolicyConfiguration;
      const lowers = c.StepAdjustments.some(
        (s: Json) =>
          (c.AdjustmentType === "ChangeInCapacity" && s.ScalingAdjustment < 0) ||
          (c.AdjustmentType === "ExactCapacity" && s.ScalingAdjustment < 1),
      );
      if (!lowers) continue;
      const alarm = alarms.find(([, a]) => JSON.stringify(a.Properties.AlarmActions).includes(policyId));
      expect(alarm![1].Properties.EvaluationPeriods, policyId).toBeGreaterThanOrEqual(15);
    }
  });
});

describe("monitoring", () => {
  it("alarms on every function's errors, throttles and duration, and on the trading KPIs, to one SNS topic", () => {
    const alarms = resources(t.monitoring, "AWS::CloudWatch::Alarm");
    for (const metric of ["Errors", "Throttles", "Duration"]) {
      const n = alarms.filter(
        ([, a]) => a.Properties.MetricName === metric && a.Properties.Namespace === "AWS/Lambda",
      );
      expect(n, metric).toHaveLength(8);
    }
    const text = JSON.stringify(alarms);
    for (const kpi of [
      "KillSwitchActive",
      "DrawdownPct",
      "SignalsGenerated",
      "ReadThrottleEvents",
      "ExitsFailed",
      "PositionsNotEvaluated",
      "PositionsAwaitingOperator",
      "UnprotectedPositions",
    ]) {
      expect(text).toContain(kpi);
    }
    const topics = resources(t.monitoring, "AWS::SNS::Topic");
    expect(topics).toHaveLength(1);
    for (const [, a] of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
    const dashboards = resources(t.monitoring, "AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboards[0][1].Properties.DashboardBody);
    for (const m of [
      "RecommendationsByState",
      "LlmDecision",
      "LlmLatencyMs",
      "RiskRefusals",
      "OrderFills",
      "SlippageBps",
      "EquityUsd",
    ]) {
      expect(body).toContain(m);
    }
  });
});

describe("cdk-nag", () => {
  it("reports no unacknowledged AwsSolutions finding", () => {
    const report = system.nag.validateScope(app);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it("fails on a new unacknowledged finding (the check is live)", () => {
    const probe = new Queue(system.data, "ProbeQueueWithoutDeadLetterQueue", { enforceSSL: true });
    try {
      const found = system.nag.validateScope(app).violations;
      expect(found.map((v) => v.ruleName)).toEqual(["AwsSolutions-SQS3"]);
      expect(found[0].violatingResources[0].constructPath).toContain("ProbeQueueWithoutDeadLetterQueue");
    } finally {
      system.data.node.tryRemoveChild(probe.node.id);
    }
    expect(system.nag.validateScope(app).success).toBe(true);
  });

  it("every acknowledgement carries a specific reason", () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    const visit = (c: IConstruct) => {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, value] of Object.entries(m.data as Record<string, unknown>)) {
          const reason =
            typeof value === "string"
              ? value
              : ((value as { reason?: string }).reason ?? JSON.stringify(value));
          acks.push({ path: c.node.path, id, reason });
        }
      }
      for (const child of c.node.children) visit(child);
    };
    visit(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThanOrEqual(60);
  });
});
