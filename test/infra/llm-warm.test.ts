/**
 * The LLM is warm when candles close: the warm window's cron arithmetic, the context keys that
 * choose the warm mode and the compute, and what each variant synthesizes (scheduled actions on the
 * validator's scalable target, the Fargate CPU task) with cdk-nag clean. Synthesized WITHOUT
 * bundling (aws:cdk:bundling-stacks = []); test/infra/stacks.test.ts checks the bundles.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { cdkJsonContext } from "#infra/cli-context.js";
import { readDeploymentConfig } from "#infra/config.js";
import {
  cronExpressions,
  DEPLOYED_CANDLE_MINUTES,
  warmAtCloseSchedule,
  warmWindowProblem,
} from "#infra/llm-warm-schedule.js";
import { buildTradingSystem, type TradingSystem } from "#infra/trading-system.js";

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is walked by path in assertions
type Json = Record<string, any>;

/** The minutes of the day a `cron(m h * * ? *)` expression (as built here) fires at. */
function firesAt(expression: string): number[] {
  const match = /^cron\(([\d,]+) ([\d,]+|\*) \* \* \? \*\)$/.exec(expression);
  if (!match) throw new Error(`not a minute/hour cron expression: ${expression}`);
  const minutes = match[1].split(",").map(Number);
  const hours = match[2] === "*" ? Array.from({ length: 24 }, (_, h) => h) : match[2].split(",").map(Number);
  return hours.flatMap((h) => minutes.map((m) => h * 60 + m));
}
const allFirings = (expressions: string[]) => expressions.flatMap(firesAt).sort((a, b) => a - b);

describe("warm window arithmetic", () => {
  it("hourly candles: up 10 minutes before every full hour, down 15 minutes after it", () => {
    expect(warmAtCloseSchedule({ candleMinutes: 60, leadMinutes: 10, afterCloseMinutes: 15 })).toEqual({
      warmUp: ["cron(50 * * * ? *)"],
      coolDown: ["cron(15 * * * ? *)"],
    });
  });

  it("longer candles name their hours; a window across midnight wraps to the previous day", () => {
    expect(warmAtCloseSchedule({ candleMinutes: 360, leadMinutes: 10, afterCloseMinutes: 20 })).toEqual({
      warmUp: ["cron(50 5,11,17,23 * * ? *)"],
      coolDown: ["cron(20 0,6,12,18 * * ? *)"],
    });
    expect(warmAtCloseSchedule({ candleMinutes: 1440, leadMinutes: 75, afterCloseMinutes: 30 })).toEqual({
      warmUp: ["cron(45 22 * * ? *)"],
      coolDown: ["cron(30 0 * * ? *)"],
    });
  });

  it.each([
    [15, 3, 5],
    [30, 7, 12],
    [60, 1, 58],
    [120, 70, 15],
    [240, 25, 45],
  ])(
    "%i-minute candles, lead %i, after %i: fires exactly once per close, at close - lead and close + after",
    (candle, lead, after) => {
      const { warmUp, coolDown } = warmAtCloseSchedule({
        candleMinutes: candle,
        leadMinutes: lead,
        afterCloseMinutes: after,
      });
      const closes = Array.from({ length: 1440 / candle }, (_, k) => k * candle);
      const shift = (d: number) => closes.map((c) => (c + d + 1440) % 1440).sort((a, b) => a - b);
      expect(allFirings(warmUp)).toEqual(shift(-lead));
      expect(allFirings(coolDown)).toEqual(shift(after));
    },
  );

  it("groups minutes that share their hours into one expression", () => {
    expect(cronExpressions([5, 65, 35, 95, 600])).toEqual(["cron(0 10 * * ? *)", "cron(5,35 0,1 * * ? *)"]);
  });

  it("refuses a window that covers the whole candle, pointing at always-on", () => {
    expect(warmWindowProblem({ candleMinutes: 60, leadMinutes: 30, afterCloseMinutes: 30 })).toMatch(
      /always-on/,
    );
    expect(() => warmAtCloseSchedule({ candleMinutes: 60, leadMinutes: 45, afterCloseMinutes: 20 })).toThrow(
      RangeError,
    );
    expect(warmWindowProblem({ candleMinutes: 7, leadMinutes: 1, afterCloseMinutes: 1 })).toMatch(/divid/);
  });

  it("the deployed candles are the pipeline's hourly ones", () => {
    expect(DEPLOYED_CANDLE_MINUTES).toBe(60);
  });
});

describe("context keys of the validator's warm mode and compute", () => {
  const read = (context: Record<string, unknown>) =>
    readDeploymentConfig(new App({ context: { ...cdkJsonContext(), ...context } }).node);

  it("defaults: GPU on EC2, warm at candle close, 10 minutes before to 15 after, 4 vCPU if on Fargate", () => {
    const c = read({});
    expect(c.llmCompute).toBe("gpu-ec2");
    expect(c.llmWarmMode).toBe("warm-at-close");
    expect([c.llmWarmLeadMinutes, c.llmWarmAfterCloseMinutes, c.llmFargateVcpu]).toEqual([10, 15, 4]);
  });

  it("command-line strings are coerced", () => {
    const c = read({ llmWarmLeadMinutes: "5", llmWarmAfterCloseMinutes: "20", llmFargateVcpu: "8" });
    expect([c.llmWarmLeadMinutes, c.llmWarmAfterCloseMinutes, c.llmFargateVcpu]).toEqual([5, 20, 8]);
  });

  it.each([
    [{ llmMinCapacity: 1 }, /llmMinCapacity: .*llmWarmMode.*always-on.*\(got 1\)/],
    [{ llmWarmMode: "warm-before-close" }, /llmWarmMode: .*\(got "warm-before-close"\)/],
    [{ llmCompute: "gpu-fargate" }, /llmCompute: .*\(got "gpu-fargate"\)/],
    [{ llmWarmLeadMinutes: 40, llmWarmAfterCloseMinutes: 30 }, /llmWarmLeadMinutes: .*always-on/],
    [{ llmWarmLeadMinutes: 0 }, /llmWarmLeadMinutes: .*\(got 0\)/],
    [{ llmFargateVcpu: 6 }, /llmFargateVcpu: expected one of 4, 8 vCPUs \(got 6\)/],
    [
      { llmCompute: "cpu-fargate", llmParallelRequests: 2 },
      /llmParallelRequests: .*one validation at a time/,
    ],
  ])("%j is refused at synth, naming the key and the value", (context, message) => {
    expect(() => read(context)).toThrow(message);
  });

  it("a window that would cover the whole hour is fine when the mode does not schedule one", () => {
    expect(() =>
      read({ llmWarmMode: "always-on", llmWarmLeadMinutes: 40, llmWarmAfterCloseMinutes: 30 }),
    ).not.toThrow();
  });
});

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface Synth {
  app: App;
  system: TradingSystem;
  llm: Template;
}

const synthCache = new Map<string, Synth>();
function synth(context: Record<string, unknown> = {}): Synth {
  const key = JSON.stringify(context);
  const cached = synthCache.get(key);
  if (cached) return cached;
  const outdir = mkdtempSync(path.join(tmpdir(), "trading-llm-warm-test-"));
  outdirs.push(outdir);
  const app = new App({
    context: { ...cdkJsonContext(), ...context, "aws:cdk:bundling-stacks": [] },
    outdir,
  });
  const system = buildTradingSystem(app);
  app.synth(); // cdk-nag runs here: an unacknowledged finding throws
  const s = { app, system, llm: Template.fromStack(system.llm) };
  synthCache.set(key, s);
  return s;
}

const resourcesOf = (tpl: Template, type: string): Json[] =>
  Object.values(tpl.findResources(type) as Record<string, { Properties: Json }>).map((r) => r.Properties);
const scalableTarget = (s: Synth): Json => {
  const targets = resourcesOf(s.llm, "AWS::ApplicationAutoScaling::ScalableTarget");
  expect(targets).toHaveLength(1);
  return targets[0];
};

/** a synth takes 10-60 s on a busy 2-core machine (each variant is synthesized once, then cached) */
const SYNTH = { timeout: 240_000 };

const VARIANTS: [string, Record<string, unknown>][] = [
  ["GPU, warm at close (default)", {}],
  ["GPU, scale from zero", { llmWarmMode: "scale-from-zero" }],
  ["GPU, always on", { llmWarmMode: "always-on" }],
  ["CPU Fargate, warm at close", { llmCompute: "cpu-fargate" }],
  [
    "CPU Fargate 8 vCPU, always on",
    { llmCompute: "cpu-fargate", llmFargateVcpu: 8, llmWarmMode: "always-on" },
  ],
];

describe("scheduled scaling of the validator service", SYNTH, () => {
  it("warm-at-close: min 1 from 10 minutes before each hourly close, the idle 0 from 15 after, max untouched", () => {
    const s = synth();
    const target = scalableTarget(s);
    expect(target.MinCapacity).toBe(0);
    expect(target.MaxCapacity).toBe(1);
    expect(target.ScalableDimension).toBe("ecs:service:DesiredCount");
    expect(target.ScheduledActions).toEqual([
      {
        ScheduledActionName: "WarmBeforeCandleClose",
        Schedule: "cron(50 * * * ? *)",
        Timezone: "Etc/UTC",
        ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 1 },
      },
      {
        ScheduledActionName: "IdleAfterCandleClose",
        Schedule: "cron(15 * * * ? *)",
        Timezone: "Etc/UTC",
        ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 1 },
      },
    ]);
    // the task count idles at 0 between windows
    const [service] = resourcesOf(s.llm, "AWS::ECS::Service");
    expect(service.DesiredCount).toBe(0);
  });

  it("follows the lead, the window and llmMaxCapacity; queue-depth scaling stays, relative and within [min, max]", () => {
    const s = synth({ llmWarmLeadMinutes: 5, llmWarmAfterCloseMinutes: 20, llmMaxCapacity: 3 });
    const target = scalableTarget(s);
    const actions = target.ScheduledActions as Json[];
    expect(actions.map((a) => [a.Schedule, a.ScalableTargetAction])).toEqual([
      ["cron(55 * * * ? *)", { MinCapacity: 1, MaxCapacity: 3 }],
      ["cron(20 * * * ? *)", { MinCapacity: 0, MaxCapacity: 3 }],
    ]);
    expect(target.MaxCapacity).toBe(3);
    // the step policies only change the count relative to where it is: App Auto Scaling clamps
    // that to the [min, max] the scheduled actions set, so a raised minimum keeps a task warm
    // while the idle policy fires, and the backlog policy still adds tasks up to llmMaxCapacity
    const policies = resourcesOf(s.llm, "AWS::ApplicationAutoScaling::ScalingPolicy");
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.PolicyType).toBe("StepScaling");
      expect(p.StepScalingPolicyConfiguration.AdjustmentType).toBe("ChangeInCapacity");
    }
    const raises = policies.flatMap((p) =>
      p.StepScalingPolicyConfiguration.StepAdjustments.map((a: Json) => a.ScalingAdjustment),
    );
    expect(Math.max(...raises)).toBe(3);
    expect(Math.min(...raises)).toBe(-3);
  });

  it.each([
    ["scale-from-zero", 0],
    ["always-on", 1],
  ])("%s: no scheduled action, the service idles at %i task(s)", (mode, idle) => {
    const s = synth({ llmWarmMode: mode });
    const target = scalableTarget(s);
    expect(target.ScheduledActions).toBeUndefined();
    expect(target.MinCapacity).toBe(idle);
    const [service] = resourcesOf(s.llm, "AWS::ECS::Service");
    expect(service.DesiredCount).toBe(idle);
  });
});

describe("the CPU validator on Fargate", SYNTH, () => {
  const containersOf = (s: Synth): Json[] => {
    const [task] = resourcesOf(s.llm, "AWS::ECS::TaskDefinition");
    return task.ContainerDefinitions;
  };

  it("a Fargate task of 4 vCPU / 8 GiB with no GPU, Ollama and the worker on the task's localhost", () => {
    const s = synth({ llmCompute: "cpu-fargate" });
    const [task] = resourcesOf(s.llm, "AWS::ECS::TaskDefinition");
    expect(task.RequiresCompatibilities).toEqual(["FARGATE"]);
    expect([task.Cpu, task.Memory]).toEqual(["4096", "8192"]);
    expect(task.NetworkMode).toBe("awsvpc");
    expect(task.RuntimePlatform).toEqual({ CpuArchitecture: "X86_64", OperatingSystemFamily: "LINUX" });
    expect(task.EphemeralStorage.SizeInGiB).toBeGreaterThan(20);
    expect(task.Volumes ?? []).toEqual([]);
    for (const c of containersOf(s)) expect(c.ResourceRequirements, c.Name).toBeUndefined();
    const byName = Object.fromEntries(containersOf(s).map((c) => [c.Name, c]));
    expect(byName.ollama.Environment).toContainEqual({ Name: "OLLAMA_HOST", Value: "127.0.0.1:11434" });
    expect(byName.ollama.Environment).toContainEqual({ Name: "OLLAMA_MODEL", Value: "phi3:3.8b" });
    expect(byName.validator.Environment).toContainEqual({
      Name: "OLLAMA_HOST",
      Value: "http://localhost:11434",
    });
    expect(byName.validator.DependsOn).toEqual([{ ContainerName: "ollama", Condition: "HEALTHY" }]);
    // Fargate's longest stop timeout; the worker's batch budget at one request per batch
    expect(byName.validator.StopTimeout).toBeLessThanOrEqual(120);
  });

  it("llmFargateVcpu=8 gives 8 vCPU / 16 GiB", () => {
    const [task] = resourcesOf(synth(VARIANTS[4][1]).llm, "AWS::ECS::TaskDefinition");
    expect([task.Cpu, task.Memory]).toEqual(["8192", "16384"]);
  });

  it("a Fargate service with a public IP in the public subnets, no instance, no ingress, the same scaling", () => {
    const s = synth({ llmCompute: "cpu-fargate" });
    const [service] = resourcesOf(s.llm, "AWS::ECS::Service");
    expect(service.LaunchType).toBe("FARGATE");
    expect(service.CapacityProviderStrategy).toBeUndefined();
    expect(service.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe("ENABLED");
    // a deployment starts the new task before it stops the old one (no GPU instance to share)
    expect(service.DeploymentConfiguration).toMatchObject({
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
    });
    for (const type of [
      "AWS::AutoScaling::AutoScalingGroup",
      "AWS::EC2::LaunchTemplate",
      "AWS::ECS::CapacityProvider",
      "AWS::EC2::NatGateway",
      "AWS::EC2::SecurityGroupIngress",
    ]) {
      expect(resourcesOf(s.llm, type), type).toEqual([]);
    }
    for (const sg of resourcesOf(s.llm, "AWS::EC2::SecurityGroup"))
      expect(sg.SecurityGroupIngress ?? []).toEqual([]);
    expect((scalableTarget(s).ScheduledActions as Json[]).map((a) => a.Schedule)).toEqual([
      "cron(50 * * * ? *)",
      "cron(15 * * * ? *)",
    ]);
    expect(resourcesOf(s.llm, "AWS::ApplicationAutoScaling::ScalingPolicy")).toHaveLength(2);
  });

  it("the GPU variant keeps its GPU, host networking and the model volume", () => {
    const s = synth();
    const [task] = resourcesOf(s.llm, "AWS::ECS::TaskDefinition");
    expect(task.RequiresCompatibilities).toEqual(["EC2"]);
    expect(task.NetworkMode).toBe("host");
    const ollama = containersOf(s).find((c) => c.Name === "ollama")!;
    expect(ollama.ResourceRequirements).toEqual([{ Type: "GPU", Value: "1" }]);
    expect(ollama.MountPoints).toEqual([
      { ContainerPath: "/root/.ollama", SourceVolume: "ollama-models", ReadOnly: false },
    ]);
  });
});

describe("cdk-nag", SYNTH, () => {
  it.each(VARIANTS)("%s: no unacknowledged AwsSolutions finding", (_, context) => {
    const s = synth(context);
    const report = s.system.nag.validateScope(s.app);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });
});
