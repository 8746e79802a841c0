/**
 * What a first `cdk deploy` into a real account needs from the templates, beyond what they look
 * like: creation order, serialisation without an account quota, async invocation, scaling, the
 * worker's capacity, KMS for an imported secret, retained DLQs and the alarms on the money-safety
 * metrics. Synthesized WITHOUT bundling (aws:cdk:bundling-stacks = []), so each variant costs a
 * few seconds; test/infra/stacks.test.ts checks the bundles.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { cdkJsonContext } from "#infra/cli-context.js";
import { buildTradingSystem, type TradingSystem } from "#infra/trading-system.js";
import { QUEUES } from "#queues/definitions.js";
import { validatorCapacity } from "#queues/validator-capacity.js";

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is walked by path in assertions
type Json = Record<string, any>;
type Resource = { Type: string; Properties: Json; DependsOn?: string | string[]; DeletionPolicy?: string };

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface Synth {
  system: TradingSystem;
  pipeline: Template;
  llm: Template;
  monitoring: Template;
  data: Template;
}

function synth(context: Record<string, unknown> = {}): Synth {
  const outdir = mkdtempSync(path.join(tmpdir(), "trading-deploy-test-"));
  outdirs.push(outdir);
  const app = new App({
    context: { ...cdkJsonContext(), ...context, "aws:cdk:bundling-stacks": [] },
    outdir,
  });
  const system = buildTradingSystem(app);
  app.synth(); // cdk-nag runs here: an unacknowledged finding throws
  return {
    system,
    pipeline: Template.fromStack(system.pipeline),
    llm: Template.fromStack(system.llm),
    monitoring: Template.fromStack(system.monitoring),
    data: Template.fromStack(system.data),
  };
}

let defaults: Synth | undefined;
const base = (): Synth => {
  defaults ??= synth();
  return defaults;
};

const resources = (tpl: Template, type: string): [string, Resource][] =>
  Object.entries(tpl.findResources(type) as Record<string, Resource>);
const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const logicalId = (s: Synth, stack: keyof Synth["system"], construct: { node: { defaultChild?: unknown } }) =>
  (s.system[stack] as unknown as { getLogicalId(e: unknown): string }).getLogicalId(
    construct.node.defaultChild,
  );

function queueNamed(tpl: Template, name: string): [string, Resource] {
  const hit = resources(tpl, "AWS::SQS::Queue").find(([, q]) => q.Properties.QueueName === name);
  if (!hit) throw new Error(`no queue named ${name}`);
  return hit;
}

describe("LLM service creation order", () => {
  // the file's first synth also loads aws-cdk-lib: 30-40 s on a loaded 2-core machine
  it("the validator service waits for the cluster's capacity-provider association", {
    timeout: 180_000,
  }, () => {
    const s = base();
    const [[associationId]] = resources(s.llm, "AWS::ECS::ClusterCapacityProviderAssociations");
    const [[, service]] = resources(s.llm, "AWS::ECS::Service");
    expect(asList(service.DependsOn)).toContain(associationId);
  });
});

describe("risk serialisation", () => {
  it("no function reserves concurrency (a new account keeps its 10 unreserved)", () => {
    for (const [id, fn] of resources(base().pipeline, "AWS::Lambda::Function")) {
      expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
    }
  });

  it("the risk queue and its DLQ are FIFO with explicit deduplication ids; the risk manager consumes one at a time", () => {
    const s = base();
    const [riskId, risk] = queueNamed(s.pipeline, "trading-risk.fifo");
    const [dlqId, dlq] = queueNamed(s.pipeline, "trading-risk-dlq.fifo");
    expect(risk.Properties.FifoQueue).toBe(true);
    expect(dlq.Properties.FifoQueue).toBe(true);
    expect(risk.Properties.ContentBasedDeduplication).not.toBe(true);
    expect(risk.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({ "Fn::GetAtt": [dlqId, "Arn"] });
    const mapping = resources(s.pipeline, "AWS::Lambda::EventSourceMapping").find(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes(riskId),
    );
    expect(mapping).toBeDefined();
    expect(mapping![1].Properties.BatchSize).toBe(1);
    expect(JSON.stringify(mapping![1].Properties.FunctionName)).toContain(
      logicalId(s, "pipeline", s.system.pipeline.functions["risk-manager"].fn),
    );
  });
});

describe("scheduled functions (EventBridge Scheduler invokes Lambda asynchronously)", () => {
  const every = { marketData: 15, signalGenerator: 5, signalBridge: 1, portfolio: 2 };

  it("no Lambda retry of a failed run, no event older than its schedule's period, failures to an alarmed DLQ", () => {
    const s = synth({ scheduleMinutes: JSON.stringify(every) });
    const configs = resources(s.pipeline, "AWS::Lambda::EventInvokeConfig");
    const alarmed = JSON.stringify(resources(s.monitoring, "AWS::CloudWatch::Alarm"));
    for (const scheduled of s.system.pipeline.schedules) {
      const fnId = logicalId(s, "pipeline", scheduled.fn.fn);
      const hit = configs.find(([, c]) => JSON.stringify(c.Properties.FunctionName).includes(fnId));
      expect(hit, `async invoke config of ${scheduled.fn.name}`).toBeDefined();
      const c = hit![1].Properties;
      expect(c.MaximumRetryAttempts, scheduled.fn.name).toBe(0);
      expect(c.MaximumEventAgeInSeconds, scheduled.fn.name).toBeLessThanOrEqual(
        Math.max(60, scheduled.everyMinutes * 60),
      );
      const destination = c.DestinationConfig.OnFailure.Destination as Json;
      const [queueId] = destination["Fn::GetAtt"] as [string, string];
      expect(s.pipeline.toJSON().Resources[queueId].Type).toBe("AWS::SQS::Queue");
      // the monitoring stack alarms on that queue (imported by name)
      const exported = Object.values(s.pipeline.toJSON().Outputs as Record<string, Json>)
        .filter((o) => JSON.stringify(o.Value) === JSON.stringify({ "Fn::GetAtt": [queueId, "QueueName"] }))
        .map((o) => o.Export.Name as string);
      expect(
        exported.some((name) => alarmed.includes(name)),
        `alarm on ${queueId}`,
      ).toBe(true);
    }
    expect(configs).toHaveLength(new Set(s.system.pipeline.schedules.map((x) => x.fn)).size);
  });

  it("a portfolio that runs less than hourly is refused at synth (kill switch and equity alarm need it)", () => {
    expect(() => synth({ scheduleMinutes: JSON.stringify({ ...every, portfolio: 90 }) })).toThrow(
      /portfolio/,
    );
  });
});

describe("validator scaling and capacity", () => {
  it("scales out on VISIBLE backlog only, at most one task per cold start; scales in on visible + in flight", () => {
    const s = synth({ llmMaxCapacity: 3 });
    const policies = resources(s.llm, "AWS::ApplicationAutoScaling::ScalingPolicy");
    const alarms = resources(s.llm, "AWS::CloudWatch::Alarm");
    const alarmOf = (policyId: string) =>
      alarms.find(([, a]) => JSON.stringify(a.Properties.AlarmActions).includes(policyId))![1];
    const raises = policies.filter(([, p]) =>
      p.Properties.StepScalingPolicyConfiguration.StepAdjustments.some((x: Json) => x.ScalingAdjustment > 0),
    );
    expect(raises).toHaveLength(1);
    const [outId, out] = raises[0];
    const outAlarm = JSON.stringify(alarmOf(outId).Properties);
    expect(outAlarm).toContain("ApproximateNumberOfMessagesVisible");
    expect(outAlarm).not.toContain("ApproximateNumberOfMessagesNotVisible");
    // a cold start (instance + image + model) takes 6-10 minutes: one more task per 15 minutes
    expect(out.Properties.StepScalingPolicyConfiguration.Cooldown).toBeGreaterThanOrEqual(15 * 60);
    const lowers = policies.filter(([, p]) =>
      p.Properties.StepScalingPolicyConfiguration.StepAdjustments.some((x: Json) => x.ScalingAdjustment < 0),
    );
    expect(lowers).toHaveLength(1);
    expect(JSON.stringify(alarmOf(lowers[0][0]).Properties)).toContain(
      "ApproximateNumberOfMessagesNotVisible",
    );
  });

  it.each([1, 3])(
    "llmParallelRequests=%i flows to OLLAMA_NUM_PARALLEL, the worker's batch, its timeout and the queue's visibility",
    (parallel) => {
      const s = synth({ llmParallelRequests: parallel });
      const capacity = validatorCapacity(parallel);
      const [[, task]] = resources(s.llm, "AWS::ECS::TaskDefinition");
      const containers = task.Properties.ContainerDefinitions as Json[];
      const env = (name: string) =>
        Object.fromEntries(
          (containers.find((c) => c.Name === name)!.Environment as Json[]).map((e) => [e.Name, e.Value]),
        );
      expect(env("ollama").OLLAMA_NUM_PARALLEL).toBe(String(parallel));
      expect(env("validator").OLLAMA_NUM_PARALLEL).toBe(String(parallel));
      expect(env("validator").OLLAMA_TIMEOUT_MS).toBe(String(capacity.ollamaTimeoutMs));
      const worker = containers.find((c) => c.Name === "validator")!;
      expect(worker.StopTimeout).toBe(capacity.batchBudgetSeconds);
      const [, validation] = queueNamed(s.pipeline, "trading-validation");
      expect(validation.Properties.VisibilityTimeout).toBe(capacity.visibilityTimeoutSeconds);
      // the budget covers every request of a batch running side by side, plus the stores
      expect(capacity.batchBudgetSeconds * 1000).toBeGreaterThan(capacity.ollamaTimeoutMs);
      expect(capacity.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(capacity.batchBudgetSeconds);
    },
  );

  it("the default capacity keeps today's validation timings (90 s per request, 120 s per batch)", () => {
    const capacity = validatorCapacity(1);
    expect(capacity.ollamaTimeoutMs).toBe(90_000);
    expect(capacity.batchBudgetSeconds).toBe(QUEUES.validation.consumerTimeoutSeconds);
  });
});

describe("imported Coinbase secret encrypted with a customer-managed key", () => {
  const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:coinbase-key-AbCdEf";
  const keyArn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789";

  it("the secret's readers, and only they, may decrypt with that key, through Secrets Manager only", () => {
    const s = synth({ coinbaseSecretArn: secretArn, coinbaseSecretKmsKeyArn: keyArn });
    const decrypters = new Set<string>();
    for (const [, policy] of resources(s.pipeline, "AWS::IAM::Policy")) {
      for (const st of asList(policy.Properties.PolicyDocument.Statement) as Json[]) {
        if (!asList(st.Action).includes("kms:Decrypt")) continue;
        expect(st.Resource).toBe(keyArn);
        expect(JSON.stringify(st.Condition)).toContain("secretsmanager.us-east-1.amazonaws.com");
        for (const role of policy.Properties.Roles) decrypters.add(role.Ref);
      }
    }
    const roleOf = (name: "portfolio" | "position-manager" | "trade-executor") =>
      logicalId(s, "pipeline", s.system.pipeline.functions[name].role);
    expect([...decrypters].sort()).toEqual(
      [roleOf("portfolio"), roleOf("position-manager"), roleOf("trade-executor")].sort(),
    );
  });

  it("a key without an imported secret, or a malformed key ARN, fails the synth naming the key", () => {
    expect(() => synth({ coinbaseSecretKmsKeyArn: keyArn })).toThrow(/coinbaseSecretKmsKeyArn/);
    expect(() => synth({ coinbaseSecretArn: secretArn, coinbaseSecretKmsKeyArn: "alias/mine" })).toThrow(
      /coinbaseSecretKmsKeyArn/,
    );
  });
});

describe("dead-letter queues outlive the stack", () => {
  it("every DLQ (chain, schedules, scheduled runs) is retained on delete and on replacement", () => {
    const dlqs = resources(base().pipeline, "AWS::SQS::Queue").filter(([, q]) =>
      String(q.Properties.QueueName).includes("-dlq"),
    );
    expect(dlqs.length).toBeGreaterThanOrEqual(5);
    for (const [id, q] of dlqs) {
      expect(q.DeletionPolicy, id).toBe("Retain");
      expect((q as Json).UpdateReplacePolicy, id).toBe("Retain");
    }
  });
});

describe("alarms on the money-safety metrics", () => {
  const alarmsOn = (s: Synth, metric: string) =>
    resources(s.monitoring, "AWS::CloudWatch::Alarm").filter(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes(`(${metric})`),
    );

  it.each(["ExecutionMessageMismatch", "ExecutionPriceRefused", "StuckRecommendations", "UnpricedAssets"])(
    "%s > 0 pages",
    (metric) => {
      const hits = alarmsOn(base(), metric);
      expect(hits, metric).toHaveLength(1);
      const a = hits[0][1].Properties;
      expect(a.Threshold).toBe(1);
      expect(a.ComparisonOperator).toBe("GreaterThanOrEqualToThreshold");
      expect(a.AlarmActions).toHaveLength(1);
    },
  );

  it("a portfolio that stops writing equity snapshots pages (missing EquityUsd is breaching)", () => {
    const hits = alarmsOn(base(), "EquityUsd").filter(
      ([, a]) => a.Properties.TreatMissingData === "breaching",
    );
    expect(hits).toHaveLength(1);
    const a = hits[0][1].Properties;
    expect(a.EvaluationPeriods).toBeGreaterThanOrEqual(3);
    expect(a.ComparisonOperator).toBe("LessThanThreshold");
    expect(JSON.stringify(a.Metrics)).toContain("COUNT(EquityUsd)");
    // Metrics Insights alarms evaluate at most the last 3 hours
    const period = (a.Metrics as Json[]).find((m) => m.ReturnData !== false)?.Period as number;
    expect(period * a.EvaluationPeriods).toBeLessThanOrEqual(3 * 3600);
  });
});
