/**
 * The trading bus: domain events run the chain within seconds of a candle close. Every rule has a
 * retry policy and a dead-letter queue (alarmed), the publishers may put events on this bus only,
 * and cdk-nag stays clean (the synth below runs it). Synthesized without bundling.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { EVENT_SOURCE } from "#domain/events.js";
import { cdkJsonContext } from "#infra/cli-context.js";
import { EVENT_TARGET_MAX_AGE_MINUTES, EVENT_TARGET_RETRY_ATTEMPTS } from "#infra/stacks/pipeline-stack.js";
import { buildTradingSystem } from "#infra/trading-system.js";

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is walked by path in assertions
type Json = Record<string, any>;

const outdir = mkdtempSync(path.join(tmpdir(), "trading-bus-test-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));
const app = new App({ context: { ...cdkJsonContext(), "aws:cdk:bundling-stacks": [] }, outdir });
const system = buildTradingSystem(app);
app.synth(); // cdk-nag runs here: an unacknowledged finding throws
const pipeline = Template.fromStack(system.pipeline);
const monitoring = Template.fromStack(system.monitoring);
const res = (tpl: Template, type: string) => Object.entries(tpl.findResources(type) as Record<string, Json>);
const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  system.pipeline.getLogicalId(construct.node.defaultChild as never);
const fnId = (name: keyof typeof system.pipeline.functions) => idOf(system.pipeline.functions[name].fn);

describe("the trading event bus", () => {
  it("is a custom bus named after the resource prefix (trading by default)", () => {
    pipeline.hasResourceProperties("AWS::Events::EventBus", { Name: "trading" });
  });

  it("CandlesClosed runs signal generation and the position manager; SignalsWritten runs the bridge", () => {
    const rules = res(pipeline, "AWS::Events::Rule").map(([, r]) => r.Properties);
    const routes = rules.map((r) => [
      r.EventPattern["detail-type"][0],
      r.Targets.map((t: Json) => JSON.stringify(t.Arn)).join(),
    ]);
    expect(routes).toHaveLength(3);
    const routeTo = (event: string, fn: Parameters<typeof fnId>[0]) =>
      routes.some(([e, arn]) => e === event && arn.includes(fnId(fn)));
    expect(routeTo("CandlesClosed", "signal-generator")).toBe(true);
    expect(routeTo("CandlesClosed", "position-manager")).toBe(true);
    expect(routeTo("SignalsWritten", "signal-bridge")).toBe(true);
    for (const r of rules) {
      expect(r.EventPattern.source).toEqual([EVENT_SOURCE]);
      expect(r.EventBusName).toEqual({ Ref: idOf(system.pipeline.eventBus) });
    }
  });

  it("every rule target retries, then dead-letters to a queue EventBridge may write and an alarm watches", () => {
    const dlq = idOf(system.pipeline.eventDeadLetterQueue);
    for (const [, rule] of res(pipeline, "AWS::Events::Rule")) {
      for (const target of rule.Properties.Targets) {
        expect(target.RetryPolicy).toEqual({
          MaximumRetryAttempts: EVENT_TARGET_RETRY_ATTEMPTS,
          MaximumEventAgeInSeconds: EVENT_TARGET_MAX_AGE_MINUTES * 60,
        });
        expect(target.DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [dlq, "Arn"] } });
      }
    }
    const policies = JSON.stringify(res(pipeline, "AWS::SQS::QueuePolicy").map(([, p]) => p.Properties));
    expect(policies).toContain("events.amazonaws.com");
    expect(policies).toContain(dlq);
    const exported = Object.values(pipeline.toJSON().Outputs as Record<string, Json>)
      .filter((o) => JSON.stringify(o.Value) === JSON.stringify({ "Fn::GetAtt": [dlq, "QueueName"] }))
      .map((o) => o.Export.Name as string);
    const alarms = JSON.stringify(res(monitoring, "AWS::CloudWatch::Alarm"));
    expect(exported.some((name) => alarms.includes(name))).toBe(true);
  });

  it("the stages that store something publish to this bus (EVENT_BUS_NAME, events:PutEvents on it only)", () => {
    const fns = pipeline.toJSON().Resources as Record<string, Json>;
    const policies = res(pipeline, "AWS::IAM::Policy").map(([, p]) => p.Properties);
    const bus = idOf(system.pipeline.eventBus);
    const publishers = [
      "market-data",
      "signal-generator",
      "signal-bridge",
      "risk-manager",
      "trade-executor",
      "portfolio",
      "kill-switch",
    ] as const;
    for (const name of publishers) {
      const env = fns[fnId(name)].Properties.Environment.Variables;
      expect(env.EVENT_BUS_NAME, name).toEqual({ Ref: bus });
      const role = JSON.stringify(fns[fnId(name)].Properties.Role);
      const own = policies.filter((p) => role.includes(p.Roles[0].Ref));
      const puts = own
        .flatMap((p) => p.PolicyDocument.Statement)
        .filter((s: Json) => s.Action === "events:PutEvents");
      expect(puts, name).toHaveLength(1);
      expect(puts[0].Resource).toEqual({ "Fn::GetAtt": [bus, "Arn"] });
    }
    expect(fns[fnId("position-manager")].Properties.Environment.Variables.EVENT_BUS_NAME).toBeUndefined();
  });

  it("the LLM validator's task publishes its verdicts to this bus (EVENT_BUS_NAME, events:PutEvents on it)", () => {
    const llm = Template.fromStack(system.llm);
    const task = res(llm, "AWS::ECS::TaskDefinition")[0][1].Properties;
    const validator = task.ContainerDefinitions.find((c: Json) => c.Name === "validator");
    const env = validator.Environment.find((e: Json) => e.Name === "EVENT_BUS_NAME");
    expect(JSON.stringify(env.Value)).toContain("TradingEventBus");
    const statements = res(llm, "AWS::IAM::Policy").flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const puts = statements.filter((s: Json) => s.Action === "events:PutEvents");
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0].Resource)).toContain("TradingEventBus");
  });
});

describe("latency", () => {
  it("an alarm pages when the p99 of candle close → order accepted exceeds chainLatencyAlarmSeconds", () => {
    const alarms = res(monitoring, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    const latency = alarms.filter((a) => JSON.stringify(a).includes("ChainLatencyMs"));
    expect(latency).toHaveLength(1);
    expect(latency[0]).toMatchObject({ Threshold: 900_000, ComparisonOperator: "GreaterThanThreshold" });
    const stat = latency[0].Metrics[0].MetricStat;
    expect(stat).toMatchObject({ Stat: "p99", Period: 900 });
    expect(stat.Metric).toMatchObject({ Namespace: "TradingPipeline", MetricName: "ChainLatencyMs" });
    expect(stat.Metric.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: "hop", Value: "CandleToOrderAccepted" },
        { Name: "service", Value: "trade-executor" },
      ]),
    );
    expect(latency[0].AlarmActions).toHaveLength(1);
  });

  it("the bound is a validated context key", () => {
    const strict = new App({
      context: { ...cdkJsonContext(), chainLatencyAlarmSeconds: 0, "aws:cdk:bundling-stacks": [] },
      outdir,
    });
    expect(() => buildTradingSystem(strict)).toThrow(/chainLatencyAlarmSeconds/);
  });
});
