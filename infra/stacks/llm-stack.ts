/**
 * The LLM validator: Ollama and the validator worker in one ECS task, on a GPU instance
 * (llmCompute=gpu-ec2, the default) or on a CPU-only Fargate task (cpu-fargate, low volume).
 *
 * Network: public subnets, NO NAT gateway, a security group with NO ingress rule, IMDSv2 only.
 * Nothing listens on a reachable port (Ollama binds 127.0.0.1, in host network mode on EC2 and in
 * the task's own awsvpc namespace on Fargate, and only the worker beside it talks to it); the task
 * needs egress alone (SQS, DynamoDB, ECR, Docker Hub and the Ollama model registry), which a public
 * IP gives without the ~$33/month + per-GB cost of a NAT gateway. DynamoDB and S3 (ECR layers) go
 * through free gateway endpoints.
 *
 * Scaling: queue depth (step scaling within [min, max]) always; with llmWarmMode=warm-at-close two
 * scheduled actions also raise the MINIMUM to 1 before each candle close and lower it after.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Duration, IgnoreMode, Stack, type StackProps, TimeZone, Validations } from "aws-cdk-lib";
import { AdjustmentType, Schedule } from "aws-cdk-lib/aws-applicationautoscaling";
import { AutoScalingGroup, BlockDeviceVolume, EbsDeviceVolumeType } from "aws-cdk-lib/aws-autoscaling";
import { MathExpression } from "aws-cdk-lib/aws-cloudwatch";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InstanceType,
  SecurityGroup,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import {
  AmiHardwareType,
  AsgCapacityProvider,
  type CfnService,
  Cluster,
  ContainerDependencyCondition,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Ec2Service,
  Ec2TaskDefinition,
  EcsOptimizedImage,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  NetworkMode,
  OperatingSystemFamily,
  type ScalableTaskCount,
  type TaskDefinition,
} from "aws-cdk-lib/aws-ecs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { type DeploymentConfig, idleValidatorTasks } from "#infra/config.js";
import { grantQueueConsume, grantQueueSend, grantTableAccess } from "#infra/constructs/grants.js";
import { METRICS_NAMESPACE, REPO_ROOT } from "#infra/constructs/pipeline-function.js";
import type { WorkQueue } from "#infra/constructs/work-queue.js";
import { DEPLOYED_CANDLE_MINUTES, warmAtCloseSchedule } from "#infra/llm-warm-schedule.js";
import { QUEUES } from "#queues/definitions.js";
import { validatorCapacity } from "#queues/validator-capacity.js";
import { TABLES } from "#store/tables.js";
import type { DataStack } from "./data-stack.js";
import type { PipelineStack } from "./pipeline-stack.js";

export interface LlmStackProps extends StackProps {
  readonly config: DeploymentConfig;
  readonly data: DataStack;
  readonly pipeline: PipelineStack;
}

export const OLLAMA_PORT = 11434;
/** waiting messages that bring every allowed task up at once */
export const BURST_BACKLOG = 20;
/** longer than a cold start (scale-out alarm, instance launch, AMI boot, image and model pull) */
export const SCALE_OUT_COOLDOWN = Duration.minutes(15);
const READY_FILE = "/tmp/ollama-model-ready";
/** MiB of task memory per Fargate vCPU: phi3:3.8b q4 is ~2.3 GB of weights + ~1.6 GB of 4k-token KV cache */
export const FARGATE_MIB_PER_VCPU = 2048;
/** image layers (ollama ~3-4 GB unpacked, the worker) + the model pulled at every task start (~2.3 GB) */
export const FARGATE_EPHEMERAL_STORAGE_GIB = 30;

/**
 * The worker image's build context is the repository root; this allow-list keeps the staged copy
 * (made at synth) to the sources the Dockerfile needs instead of node_modules and cdk.out.
 */
export const WORKER_BUILD_CONTEXT_EXCLUDES = [
  "*",
  "!package.json",
  "!package-lock.json",
  "!tsconfig.json",
  "!functions",
];

export class LlmStack extends Stack {
  readonly vpc: Vpc;
  readonly cluster: Cluster;
  /** the GPU instances (llmCompute=gpu-ec2 only) */
  readonly autoScalingGroup?: AutoScalingGroup;
  readonly service: Ec2Service | FargateService;
  readonly taskDefinition: Ec2TaskDefinition | FargateTaskDefinition;
  readonly validationQueue: WorkQueue;
  /** the service's scalable target: queue-depth policies and the warm-at-close scheduled actions */
  readonly scaling: ScalableTaskCount;

  constructor(scope: Construct, id: string, props: LlmStackProps) {
    super(scope, id, props);
    const { config, data, pipeline } = props;
    this.validationQueue = pipeline.queues.validation;

    this.vpc = new Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "public", subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: {
        DynamoDb: { service: GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        rejected: {
          trafficType: FlowLogTrafficType.REJECT,
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, "VpcFlowLogs", { retention: RetentionDays.ONE_MONTH }),
          ),
        },
      },
    });

    const gpu = config.llmCompute === "gpu-ec2";
    const securityGroup = gpu
      ? new SecurityGroup(this, "GpuInstances", {
          vpc: this.vpc,
          description: "LLM GPU instances: no ingress at all; egress for AWS APIs, images and the model pull",
          allowAllOutbound: true,
        })
      : new SecurityGroup(this, "ValidatorTasks", {
          vpc: this.vpc,
          description:
            "LLM validator Fargate tasks: no ingress at all; egress for AWS APIs, images and the model pull",
          allowAllOutbound: true,
        });

    this.cluster = new Cluster(this, "Cluster", {
      vpc: this.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
    });

    // ONE number sizes the worker: Ollama's parallel slots, the messages the worker takes at once
    // (it validates a batch side by side), the request timeout and the time a batch may take
    const capacity = validatorCapacity(config.llmParallelRequests);

    let capacityProvider: AsgCapacityProvider | undefined;
    if (gpu) {
      this.autoScalingGroup = this.gpuInstances(config, securityGroup);
      capacityProvider = new AsgCapacityProvider(this, "GpuCapacityProvider", {
        autoScalingGroup: this.autoScalingGroup,
        enableManagedScaling: true,
        // ECS scales instances in only when no task runs on them, and drains them itself (no drain-hook Lambda)
        enableManagedTerminationProtection: true,
        enableManagedDraining: true,
        targetCapacityPercent: 100,
      });
      this.cluster.addAsgCapacityProvider(capacityProvider);
      // Host networking: Ollama on 127.0.0.1 is reachable only from the worker on the same instance,
      // and egress uses the instance's public IP (awsvpc tasks on EC2 get no public IP).
      this.taskDefinition = new Ec2TaskDefinition(this, "ValidatorTask", { networkMode: NetworkMode.HOST });
      this.taskDefinition.addVolume({ name: "ollama-models", host: { sourcePath: "/opt/ollama" } });
    } else {
      // awsvpc: the two containers share the task's own localhost; the task gets a public IP
      this.taskDefinition = new FargateTaskDefinition(this, "ValidatorTask", {
        cpu: config.llmFargateVcpu * 1024,
        memoryLimitMiB: config.llmFargateVcpu * FARGATE_MIB_PER_VCPU,
        ephemeralStorageGiB: FARGATE_EPHEMERAL_STORAGE_GIB,
        // the worker image is built for linux/amd64 (the GPU instances); the same image runs here
        runtimePlatform: {
          cpuArchitecture: CpuArchitecture.X86_64,
          operatingSystemFamily: OperatingSystemFamily.LINUX,
        },
      });
    }
    this.addContainers(this.taskDefinition, props, capacity, { gpu });

    const taskRole = this.taskDefinition.taskRole;
    grantQueueConsume(taskRole, pipeline.queues.validation.queue);
    grantQueueSend(taskRole, pipeline.queues.risk.queue);
    grantTableAccess(taskRole, data.tables.recommendations, TABLES.recommendations, "readWrite");
    grantTableAccess(taskRole, data.tables.decisions, TABLES.decisions, "readWrite");
    grantTableAccess(taskRole, data.tables.signals, TABLES.signals, "read");
    grantTableAccess(taskRole, data.tables.candles, TABLES.candles, "read");
    // RecommendationDecided (by the LLM) on the trading bus
    pipeline.eventBus.grantPutEventsTo(taskRole);

    const common = {
      cluster: this.cluster,
      desiredCount: idleValidatorTasks(config),
      circuitBreaker: { rollback: true },
    };
    if (capacityProvider) {
      this.service = new Ec2Service(this, "ValidatorService", {
        ...common,
        // one task per GPU instance: a deployment stops the old task first
        minHealthyPercent: 0,
        maxHealthyPercent: 100,
        taskDefinition: this.taskDefinition,
        capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
      });
      // ECS refuses to create a service whose capacity provider is not yet associated with its
      // cluster. The association (AWS::ECS::ClusterCapacityProviderAssociations) is added inside the
      // cluster construct by an aspect at synth, so depend on the whole cluster construct: that
      // includes the association whenever it exists.
      (this.service.node.defaultChild as CfnService).node.addDependency(this.cluster);
    } else {
      this.service = new FargateService(this, "ValidatorService", {
        ...common,
        // no instance to share: the new task loads the model while the old one still validates
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        taskDefinition: this.taskDefinition as FargateTaskDefinition,
        assignPublicIp: true,
        vpcSubnets: { subnetType: SubnetType.PUBLIC },
        securityGroups: [securityGroup],
      });
    }

    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: idleValidatorTasks(config),
      maxCapacity: config.llmMaxCapacity,
    });
    this.scaleOnValidationBacklog(config);
    if (config.llmWarmMode === "warm-at-close") this.warmBeforeEachCandleClose(config);
    this.acknowledgeFindings();
  }

  private gpuInstances(config: DeploymentConfig, securityGroup: SecurityGroup): AutoScalingGroup {
    return new AutoScalingGroup(this, "GpuCapacity", {
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      associatePublicIpAddress: true,
      securityGroup,
      instanceType: new InstanceType(config.gpuInstanceType),
      machineImage: EcsOptimizedImage.amazonLinux2(AmiHardwareType.GPU),
      minCapacity: 0,
      maxCapacity: config.llmMaxCapacity,
      requireImdsv2: true,
      blockDevices: [
        {
          // GPU AMI + ollama image + model weights; the model lives on the host to survive task restarts
          deviceName: "/dev/xvda",
          volume: BlockDeviceVolume.ebs(100, { encrypted: true, volumeType: EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
  }

  /** Ollama (one GPU, or the task's CPUs) and the worker that starts once the model is loaded. */
  private addContainers(
    taskDefinition: TaskDefinition,
    { config, data, pipeline }: LlmStackProps,
    capacity: ReturnType<typeof validatorCapacity>,
    { gpu }: { gpu: boolean },
  ): void {
    const logs = new LogGroup(this, "ValidatorLogs", { retention: RetentionDays.ONE_MONTH });
    const ollamaScript = readFileSync(
      path.join(REPO_ROOT, "functions", "llm-validator", "ollama-entrypoint.sh"),
      "utf8",
    );

    const ollama = taskDefinition.addContainer("ollama", {
      image: ContainerImage.fromRegistry(config.ollamaImage),
      essential: true,
      // on Fargate the task's memory bounds both containers; the worker's limit leaves Ollama the rest
      ...(gpu ? { gpuCount: 1, memoryReservationMiB: 8192 } : {}),
      entryPoint: ["/bin/sh", "-c"],
      command: [ollamaScript],
      environment: {
        OLLAMA_MODEL: config.ollamaModel,
        OLLAMA_HOST: `127.0.0.1:${OLLAMA_PORT}`,
        OLLAMA_KEEP_ALIVE: "-1",
        OLLAMA_NUM_PARALLEL: String(capacity.parallelRequests),
        OLLAMA_READY_FILE: READY_FILE,
      },
      healthCheck: {
        command: ["CMD-SHELL", `test -f ${READY_FILE} && ollama show "$OLLAMA_MODEL" >/dev/null`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(10),
        // image + model pull + first load; further failures within 10 x 30 s still count as starting
        startPeriod: Duration.seconds(300),
        retries: 10,
      },
      logging: LogDrivers.awsLogs({ logGroup: logs, streamPrefix: "ollama" }),
    });
    // on EC2 the weights live on the host and survive a task restart; a Fargate task pulls them anew
    if (gpu) {
      ollama.addMountPoints({
        containerPath: "/root/.ollama",
        sourceVolume: "ollama-models",
        readOnly: false,
      });
    }

    const tableEnv: Record<string, string> = {};
    for (const def of [TABLES.recommendations, TABLES.decisions, TABLES.signals, TABLES.candles]) {
      tableEnv[def.envVar] = data.tables[def.id].tableName;
    }

    const worker = taskDefinition.addContainer("validator", {
      image: ContainerImage.fromAsset(REPO_ROOT, {
        file: "functions/llm-validator/Dockerfile",
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: WORKER_BUILD_CONTEXT_EXCLUDES,
      }),
      essential: true,
      memoryLimitMiB: 1024,
      // a batch in flight may take the whole budget before the worker stops (120 s at one request
      // per batch, which is also Fargate's longest stop timeout; cpu-fargate allows only that)
      stopTimeout: Duration.seconds(capacity.batchBudgetSeconds),
      environment: {
        OLLAMA_HOST: `http://localhost:${OLLAMA_PORT}`,
        OLLAMA_MODEL: config.ollamaModel,
        OLLAMA_NUM_PARALLEL: String(capacity.parallelRequests),
        OLLAMA_TIMEOUT_MS: String(capacity.ollamaTimeoutMs),
        [QUEUES.validation.urlEnvVar]: pipeline.queues.validation.queue.queueUrl,
        [QUEUES.risk.urlEnvVar]: pipeline.queues.risk.queue.queueUrl,
        VALIDATION_QUEUE_ARN: pipeline.queues.validation.queue.queueArn,
        EVENT_BUS_NAME: pipeline.eventBus.eventBusName,
        TRADING_MODE: config.tradingMode,
        POWERTOOLS_SERVICE_NAME: "llm-validator",
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: config.logLevel,
        LOG_LEVEL: config.logLevel,
        AWS_REGION: this.region,
        ...tableEnv,
      },
      logging: LogDrivers.awsLogs({ logGroup: logs, streamPrefix: "validator" }),
    });
    worker.addContainerDependencies({ container: ollama, condition: ContainerDependencyCondition.HEALTHY });
  }

  /**
   * warm-at-close: the MINIMUM goes to 1 llmWarmLeadMinutes before each candle close (a cold start
   * fits in it) and back to the idle minimum llmWarmAfterCloseMinutes after it. Scheduled actions
   * only move [min, max], the step policies below only move the task count within it, so they do
   * not fight: raising the minimum starts a task at once; lowering it stops nothing by itself, the
   * idle scale-in does, once nothing has waited or been in flight for 15 minutes (an alarm that
   * stays in ALARM re-invokes its Application Auto Scaling policy, so a task that was idle all
   * along stops within that policy's cooldown). The maximum stays llmMaxCapacity throughout.
   */
  private warmBeforeEachCandleClose(config: DeploymentConfig): void {
    const { warmUp, coolDown } = warmAtCloseSchedule({
      candleMinutes: DEPLOYED_CANDLE_MINUTES,
      leadMinutes: config.llmWarmLeadMinutes,
      afterCloseMinutes: config.llmWarmAfterCloseMinutes,
    });
    const at = (id: string, expressions: string[], minCapacity: number) =>
      expressions.forEach((expression, i) => {
        this.scaling.scaleOnSchedule(`${id}${i === 0 ? "" : i + 1}`, {
          schedule: Schedule.expression(expression),
          timeZone: TimeZone.ETC_UTC,
          minCapacity,
          maxCapacity: config.llmMaxCapacity,
        });
      });
    at("WarmBeforeCandleClose", warmUp, 1);
    at("IdleAfterCandleClose", coolDown, idleValidatorTasks(config));
  }

  /**
   * Out on VISIBLE messages only: a message a task is already validating is in flight, and counting
   * it would keep the alarm on and add a GPU instance every minute. One more task per cold start
   * at most (a new instance takes 6-10 minutes to validate its first message; the messages wait
   * unreceived meanwhile), all of llmMaxCapacity at once for a burst. In on visible + in flight,
   * so a busy task is never scaled in under its batch, and only after 15 idle minutes.
   */
  private scaleOnValidationBacklog(config: DeploymentConfig): void {
    const scaling = this.scaling;
    const q = this.validationQueue.queue;
    const waiting = q.metricApproximateNumberOfMessagesVisible({
      label: "validation messages waiting",
      period: Duration.minutes(1),
      statistic: "Maximum",
    });
    const backlog = new MathExpression({
      label: "validation backlog (waiting + in flight)",
      expression: "visible + inFlight",
      usingMetrics: {
        visible: waiting,
        inFlight: q.metricApproximateNumberOfMessagesNotVisible({
          period: Duration.minutes(1),
          statistic: "Maximum",
        }),
      },
      period: Duration.minutes(1),
    });
    // relative steps: an EXACT_CAPACITY policy would also set the empty-backlog band to an exact
    // capacity after one minute, defeating the 15 idle minutes below (change 0 here is a no-op)
    scaling.scaleOnMetric("ScaleOutOnBacklog", {
      metric: waiting,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: 0 },
        { lower: 1, change: 1 },
        { lower: BURST_BACKLOG, change: config.llmMaxCapacity },
      ],
      evaluationPeriods: 1,
      // within the cooldown the same +1 adds nothing; only the burst step can add more
      cooldown: SCALE_OUT_COOLDOWN,
    });
    scaling.scaleOnMetric("ScaleInWhenIdle", {
      metric: backlog,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: -config.llmMaxCapacity },
        { lower: 1, change: 0 },
      ],
      evaluationPeriods: 15,
      cooldown: Duration.minutes(5),
    });
  }

  private acknowledgeFindings(): void {
    if (this.autoScalingGroup) this.acknowledgeGpuInstanceFindings(this.autoScalingGroup);
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "ecr:GetAuthorizationToken (to pull the validator image) supports no resource-level permission; the image pull itself is scoped to the asset repository.",
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions-ECS2",
      reason:
        "The environment holds only non-secret configuration (queue URLs, table names, model name, log level); the task reads no secret.",
    });
  }

  private acknowledgeGpuInstanceFindings(group: AutoScalingGroup): void {
    const instanceRole = group.role;
    Validations.of(instanceRole).acknowledge({
      id: "AwsSolutions-IAM5[Action::ecs:Submit*]",
      reason:
        "Added by ECS Cluster.addAsgCapacityProvider for the ECS agent (SubmitTaskStateChange, SubmitContainerStateChange, ...), scoped to this cluster's ARN.",
    });
    Validations.of(instanceRole).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "The ECS agent's ecs:DiscoverPollEndpoint and ecr:GetAuthorizationToken support no resource-level permissions; ecs:Poll/StartTelemetrySession are conditioned on this cluster's ARN.",
    });
    Validations.of(group).acknowledge({
      id: "AwsSolutions-AS3",
      reason:
        "The group is driven by the ECS capacity provider (0 to llmMaxCapacity); a failed launch shows as the validation queue's oldest-message alarm and in ECS service events, which is what an operator acts on.",
    });
  }
}
