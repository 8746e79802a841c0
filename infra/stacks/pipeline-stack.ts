/**
 * The Lambda side of the pipeline: the three chain queues, the eight functions, the `trading`
 * event bus whose domain events drive the chain within seconds of a candle close, the schedules
 * that stay beside it as a safety net, and the onnxruntime layer.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import {
  AssetHashType,
  type CfnElement,
  CfnOutput,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import { EventBus, Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Architecture, Code, LayerVersion, Runtime } from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { type DomainEventType, EVENT_SOURCE } from "#domain/events.js";
import type { DeploymentConfig } from "#infra/config.js";
import { PipelineFunction, REPO_ROOT } from "#infra/constructs/pipeline-function.js";
import { WorkQueue } from "#infra/constructs/work-queue.js";
import { FUNCTION_TIMEOUT_SECONDS, type FunctionName } from "#infra/function-catalog.js";
import { buildOnnxRuntimeLayer, onnxRuntimeVersion } from "#layers/build-onnxruntime-layer.js";
import { QUEUES, type QueueId } from "#queues/definitions.js";
import { validatorCapacity } from "#queues/validator-capacity.js";
import { TABLES } from "#store/tables.js";
import type { DataStack } from "./data-stack.js";

export interface PipelineStackProps extends StackProps {
  readonly config: DeploymentConfig;
  readonly data: DataStack;
}

export type { FunctionName };

/** The model files shipped next to the signal generator's bundle, and where the handler finds them. */
export const MODEL_FILES = ["signal-model.onnx", "signal-model.card.json"] as const;
export const LAMBDA_MODEL_DIR = "/var/task/models";

export interface ScheduledFunction {
  readonly fn: PipelineFunction;
  readonly schedule: Schedule;
  readonly everyMinutes: number;
}

/** A rule of the trading bus: which domain event runs which function. */
export interface EventTrigger {
  readonly event: DomainEventType;
  readonly fn: PipelineFunction;
  readonly rule: Rule;
}

/** How often EventBridge retries delivering a domain event to its function, and for how long. */
export const EVENT_TARGET_RETRY_ATTEMPTS = 2;
export const EVENT_TARGET_MAX_AGE_MINUTES = 5;

export class PipelineStack extends Stack {
  readonly queues: Readonly<Record<QueueId, WorkQueue>>;
  readonly functions: Readonly<Record<FunctionName, PipelineFunction>>;
  readonly schedules: readonly ScheduledFunction[];
  /** what EventBridge Scheduler could not deliver to a function (throttled, missing, denied) */
  readonly scheduleDeadLetterQueue: Queue;
  /** Lambda's on-failure destination of scheduled runs that were delivered but threw or expired */
  readonly scheduledRunFailureQueue: Queue;
  readonly onnxRuntimeLayer: LayerVersion;
  /** the custom bus every domain event goes to (named after resourcePrefix: `trading` by default) */
  readonly eventBus: EventBus;
  /** domain events EventBridge could not deliver to their function after its retries */
  readonly eventDeadLetterQueue: Queue;
  readonly eventTriggers: readonly EventTrigger[];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const t = data.tables;

    this.queues = {
      validation: new WorkQueue(this, "ValidationQueue", {
        definition: QUEUES.validation,
        resourcePrefix: config.resourcePrefix,
        // the worker holds a batch for up to its budget, which grows with its parallel requests
        visibilityTimeoutSeconds: validatorCapacity(config.llmParallelRequests).visibilityTimeoutSeconds,
      }),
      risk: new WorkQueue(this, "RiskQueue", {
        definition: QUEUES.risk,
        resourcePrefix: config.resourcePrefix,
      }),
      execution: new WorkQueue(this, "ExecutionQueue", {
        definition: QUEUES.execution,
        resourcePrefix: config.resourcePrefix,
      }),
    };

    this.onnxRuntimeLayer = new LayerVersion(this, "OnnxRuntimeLayer", {
      description: `onnxruntime-node ${onnxRuntimeVersion()} for linux/arm64 only (layers/build-onnxruntime-layer.ts)`,
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.ARM_64],
      code: Code.fromAsset(path.join(REPO_ROOT, "layers", "onnxruntime"), {
        assetHashType: AssetHashType.CUSTOM,
        assetHash: `onnxruntime-node-${onnxRuntimeVersion()}-linux-arm64-v1`,
        bundling: {
          // never used: local bundling below always succeeds or throws, so synth needs no Docker
          image: DockerImage.fromRegistry("public.ecr.aws/sam/build-nodejs22.x"),
          local: {
            tryBundle(outputDir: string): boolean {
              buildOnnxRuntimeLayer(outputDir, "arm64");
              return true;
            },
          },
        },
      }),
    });

    const fn = (
      name: FunctionName,
      idName: string,
      rest: Omit<ConstructorParameters<typeof PipelineFunction>[2], "name" | "config">,
    ) => new PipelineFunction(this, idName, { name, config, ...rest });

    const marketData = fn("market-data", "MarketData", {
      description: "Pulls Coinbase candles for the most liquid products into the candles table",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["market-data"]),
      memorySize: 512,
    }).usesTable(t.candles, TABLES.candles, "readWrite");

    const signalGenerator = fn("signal-generator", "SignalGenerator", {
      description:
        "Computes 51 features per symbol and scores them with the ONNX model into BUY/SELL/HOLD signals",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["signal-generator"]),
      memorySize: 1024,
      layers: [this.onnxRuntimeLayer],
      externalModules: ["onnxruntime-node", "onnxruntime-common"],
      commandHooks: modelCopyHooks(),
      environment: {
        MODEL_PATH: `${LAMBDA_MODEL_DIR}/${MODEL_FILES[0]}`,
        MODEL_CARD_PATH: `${LAMBDA_MODEL_DIR}/${MODEL_FILES[1]}`,
      },
    })
      .usesTable(t.candles, TABLES.candles, "read")
      .usesTable(t.signals, TABLES.signals, "readWrite");

    const signalBridge = fn("signal-bridge", "SignalBridge", {
      description:
        "Turns confident signals of the last hour into recommendations and queues them for validation",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["signal-bridge"]),
      memorySize: 256,
    })
      .usesTable(t.signals, TABLES.signals, "readWrite")
      .usesTable(t.recommendations, TABLES.recommendations, "readWrite")
      .usesTable(t.portfolio, TABLES.portfolio, "read")
      .sendsTo(this.queues.validation);

    const riskManager = fn("risk-manager", "RiskManager", {
      description: "Sizes or refuses validated recommendations against portfolio limits",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["risk-manager"]),
      memorySize: 512,
    })
      .usesTable(t.recommendations, TABLES.recommendations, "readWrite")
      .usesTable(t.decisions, TABLES.decisions, "readWrite")
      // recordApproval writes the reservation and the day's approval count
      .usesTable(t.portfolio, TABLES.portfolio, "readWrite")
      .usesTable(t.candles, TABLES.candles, "read")
      // one at a time, so two approvals never see the same exposure: the risk queue is FIFO with
      // one message group, and Lambda runs a FIFO source at most once per active group. Batch 1:
      // in a larger FIFO batch a failed record would have to stop the records after it
      .consumes(this.queues.risk, { batchSize: 1 })
      .sendsTo(this.queues.execution);

    const tradeExecutor = fn("trade-executor", "TradeExecutor", {
      description:
        "Places approved orders on the paper exchange or Coinbase Advanced Trade, once per recommendation",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["trade-executor"]),
      memorySize: 512,
    })
      .usesTable(t.recommendations, TABLES.recommendations, "readWrite")
      // the approved risk decision is re-read, never taken from the message
      .usesTable(t.decisions, TABLES.decisions, "read")
      .usesTable(t.orders, TABLES.orders, "readWrite")
      .usesTable(t.portfolio, TABLES.portfolio, "readWrite")
      .usesTable(t.candles, TABLES.candles, "read")
      .consumes(this.queues.execution, { batchSize: 5 })
      .readsSecret(data.coinbaseSecret, data.coinbaseSecretKmsKeyArn);

    const portfolio = fn("portfolio", "Portfolio", {
      description: "Reconciles orders and fills, marks positions to market, records equity and drawdown",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.portfolio),
      memorySize: 512,
    })
      .usesTable(t.orders, TABLES.orders, "readWrite")
      .usesTable(t.portfolio, TABLES.portfolio, "readWrite")
      // recommendations stuck in EXECUTING (byStatus index) for the health report
      .usesTable(t.recommendations, TABLES.recommendations, "read")
      .usesTable(t.candles, TABLES.candles, "read")
      .readsSecret(data.coinbaseSecret, data.coinbaseSecretKmsKeyArn);

    const positionManager = fn("position-manager", "PositionManager", {
      description:
        "Evaluates open positions against the venue's bid every minute and sends their exits (stop, targets, trail, time, signal, kill switch) to execution; operators list and sell positions by hand (MANUAL)",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["position-manager"]),
      memorySize: 512,
    })
      // managed positions (optimistic writes), the kill switch; the paper venue's books
      .usesTable(t.portfolio, TABLES.portfolio, "readWrite")
      // exits are recommendations born RISK_APPROVED, each with its decision (decidedBy exit-policy)
      .usesTable(t.recommendations, TABLES.recommendations, "readWrite")
      .usesTable(t.decisions, TABLES.decisions, "readWrite")
      // the latest SELL signals of held symbols (bySymbol index)
      .usesTable(t.signals, TABLES.signals, "read")
      // the paper venue's prices
      .usesTable(t.candles, TABLES.candles, "read")
      .sendsTo(this.queues.execution)
      .readsSecret(data.coinbaseSecret, data.coinbaseSecretKmsKeyArn);

    const killSwitch = fn("kill-switch", "KillSwitch", {
      description:
        "Pauses, resumes or reports the kill switch that stops all new orders (manual invoke only)",
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS["kill-switch"]),
      memorySize: 256,
    }).usesTable(t.portfolio, TABLES.portfolio, "readWrite");

    this.functions = {
      "market-data": marketData,
      "signal-generator": signalGenerator,
      "signal-bridge": signalBridge,
      "risk-manager": riskManager,
      "trade-executor": tradeExecutor,
      portfolio,
      "position-manager": positionManager,
      "kill-switch": killSwitch,
    };

    this.scheduleDeadLetterQueue = new Queue(this, "ScheduleDeadLetterQueue", {
      queueName: `${config.resourcePrefix}-schedules-dlq`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is the dead-letter queue of the EventBridge schedules (invocations the scheduler could not deliver after retries); it is alarmed, not redriven further.",
    });
    this.scheduledRunFailureQueue = new Queue(this, "ScheduledRunFailureQueue", {
      queueName: `${config.resourcePrefix}-scheduled-runs-dlq`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.scheduledRunFailureQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is the on-failure destination of the scheduled functions' asynchronous invocations (a run that threw or expired, with its error); it is alarmed, and the next scheduled run supersedes the failed one.",
    });

    for (const f of Object.values(this.functions)) {
      new CfnOutput(this, `${f.node.id}FunctionName`, {
        value: f.fn.functionName,
        description: `Lambda ${f.name}`,
      });
    }
    for (const q of Object.values(this.queues)) {
      new CfnOutput(this, `${q.node.id}Url`, { value: q.queue.queueUrl });
      new CfnOutput(this, `${q.node.id}DeadLetterArn`, { value: q.deadLetterQueue.queueArn });
    }
    new CfnOutput(this, "ScheduleDeadLetterQueueUrl", {
      value: this.scheduleDeadLetterQueue.queueUrl,
      description: "Scheduled invocations EventBridge Scheduler could not deliver",
    });
    new CfnOutput(this, "ScheduledRunFailureQueueUrl", {
      value: this.scheduledRunFailureQueue.queueUrl,
      description: "Scheduled runs that threw or expired (Lambda on-failure destination records)",
    });

    this.eventBus = new EventBus(this, "TradingEventBus", { eventBusName: config.resourcePrefix });
    this.eventDeadLetterQueue = new Queue(this, "EventDeadLetterQueue", {
      queueName: `${config.resourcePrefix}-events-dlq`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.eventDeadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is the dead-letter queue of the trading bus's rule targets (domain events EventBridge could not deliver after retries); it is alarmed, and the schedules run the chain anyway.",
    });
    // every stage that stores something a subscriber may care about publishes it (domain/events.ts)
    const publishers = [
      marketData,
      signalGenerator,
      signalBridge,
      riskManager,
      tradeExecutor,
      portfolio,
      killSwitch,
    ];
    for (const publisher of publishers) {
      publisher.fn.addEnvironment("EVENT_BUS_NAME", this.eventBus.eventBusName);
      this.eventBus.grantPutEventsTo(publisher.fn);
    }
    new CfnOutput(this, "EventBusName", { value: this.eventBus.eventBusName });
    new CfnOutput(this, "EventDeadLetterQueueUrl", {
      value: this.eventDeadLetterQueue.queueUrl,
      description: "Domain events the trading bus could not deliver to their function",
    });
    this.eventTriggers = [
      this.onEvent("CandlesClosed", signalGenerator),
      this.onEvent("CandlesClosed", positionManager),
      this.onEvent("SignalsWritten", signalBridge),
    ];

    const every = config.scheduleMinutes;
    this.schedules = [
      // a few seconds after each hourly candle closes; the rate below is the safety net
      this.scheduleAt(marketData, "AtCandleClose", ScheduleExpression.cron({ minute: "0" }), 60, 5),
      this.scheduleEvery(marketData, every.marketData),
      this.scheduleEvery(signalGenerator, every.signalGenerator),
      this.scheduleEvery(signalBridge, every.signalBridge),
      this.scheduleEvery(portfolio, every.portfolio),
      this.scheduleEvery(positionManager, every.positionManager),
    ];
  }

  /**
   * EventBridge Scheduler, not a Rule, for its retry policy and DLQ per target. The payload mimics
   * the classic "Scheduled Event" so handlers (and events/scheduled-*.json) see one shape.
   *
   * The scheduler invokes Lambda ASYNCHRONOUSLY: its retries and DLQ cover delivery only. A run
   * that throws is Lambda's to retry (by default twice, for up to 6 hours, with the old `time`),
   * so the function's own async configuration says: no retry (the next scheduled run supersedes a
   * failed one), no event older than one period, and failures to an alarmed queue.
   */
  private scheduleEvery(target: PipelineFunction, minutes: number): ScheduledFunction {
    target.fn.configureAsyncInvoke(scheduledRunInvokeConfig(minutes, this.scheduledRunFailureQueue));
    return this.scheduleAt(target, "", ScheduleExpression.rate(Duration.minutes(minutes)), minutes);
  }

  /** A domain event of the trading bus runs `target` (asynchronously, with retries and a DLQ). */
  private onEvent(event: DomainEventType, target: PipelineFunction): EventTrigger {
    const rule = new Rule(this, `${target.node.id}On${event}`, {
      eventBus: this.eventBus,
      description: `${event} runs ${target.name}`,
      eventPattern: { source: [EVENT_SOURCE], detailType: [event] },
      targets: [
        new LambdaFunction(target.fn, {
          retryAttempts: EVENT_TARGET_RETRY_ATTEMPTS,
          maxEventAge: Duration.minutes(EVENT_TARGET_MAX_AGE_MINUTES),
          deadLetterQueue: this.eventDeadLetterQueue,
        }),
      ],
    });
    return { event, fn: target, rule };
  }

  private scheduleAt(
    target: PipelineFunction,
    idSuffix: string,
    expression: ScheduleExpression,
    minutes: number,
    /** how late the scheduler may still deliver a run: by default one period */
    maxAgeMinutes = minutes,
  ): ScheduledFunction {
    const schedule = new Schedule(this, `${target.node.id}${idSuffix}Schedule`, {
      description: idSuffix
        ? `Invokes ${target.name} at ${expression.expressionString}`
        : `Invokes ${target.name} every ${minutes} minute(s)`,
      schedule: expression,
      target: new LambdaInvoke(target.fn, {
        input: ScheduleTargetInput.fromObject({
          version: "0",
          id: ContextAttribute.executionId,
          "detail-type": "Scheduled Event",
          source: "aws.scheduler",
          account: this.account,
          time: ContextAttribute.scheduledTime,
          region: this.region,
          resources: [ContextAttribute.scheduleArn],
          detail: {},
        }),
        retryAttempts: 2,
        // a run older than its own period is superseded by the next one
        maxEventAge: Duration.minutes(Math.max(1, maxAgeMinutes)),
        deadLetterQueue: this.scheduleDeadLetterQueue,
      }),
    });
    const fnLogicalId = this.getLogicalId(target.fn.node.defaultChild as CfnElement);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
      reason: `The scheduler role's lambda:InvokeFunction grant covers ${target.name}'s ARN and its versions/aliases (ARN:*), nothing else; the grant is made by aws-scheduler-targets LambdaInvoke.`,
    });
    return { fn: target, schedule, everyMinutes: minutes };
  }
}

/** Lambda keeps an async event for 60 s to 6 h; a scheduled run is stale after one period. */
export function scheduledRunMaxEventAgeSeconds(everyMinutes: number): number {
  return Math.min(Math.max(60, everyMinutes * 60), 6 * 3600);
}

function scheduledRunInvokeConfig(everyMinutes: number, failures: Queue) {
  return {
    retryAttempts: 0,
    maxEventAge: Duration.seconds(scheduledRunMaxEventAgeSeconds(everyMinutes)),
    onFailure: new SqsDestination(failures),
  };
}

/** Copies the ONNX model and its card next to index.mjs; a missing model fails the synth (no fallback). */
function modelCopyHooks() {
  const modelsDir = path.join(REPO_ROOT, "models");
  return {
    beforeBundling(): string[] {
      return [];
    },
    beforeInstall(): string[] {
      return [];
    },
    afterBundling(inputDir: string, outputDir: string): string[] {
      for (const file of MODEL_FILES) {
        if (!existsSync(path.join(modelsDir, file))) {
          throw new Error(
            `models/${file} is missing: the signal generator cannot be deployed without its model. ` +
              "Train and export it (models/training/) or restore it from git, then synth again.",
          );
        }
      }
      const from = path.join(inputDir, "models");
      return [
        `mkdir -p "${outputDir}/models"`,
        ...MODEL_FILES.map((file) => `cp "${path.join(from, file)}" "${outputDir}/models/${file}"`),
      ];
    },
  };
}
