/**
 * One dashboard and the alarms an operator is paged for, through one SNS topic.
 *
 * Trading KPIs come from Powertools EMF metrics in the TradingPipeline namespace. Powertools adds
 * a `service` dimension to every metric, and each handler may add its own (signalType, state,
 * decision, reason): the KPI widgets and alarms use Metrics Insights / SEARCH over the namespace
 * so they aggregate whatever dimension sets the handlers emit instead of guessing one exact set.
 */
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { CHAIN_HOPS, type ChainHop, END_TO_END_HOP } from "#domain/chain-latency.js";
import type { DeploymentConfig } from "#infra/config.js";
import { METRICS_NAMESPACE, type PipelineFunction } from "#infra/constructs/pipeline-function.js";
import { QUEUE_LIST, type QueueId } from "#queues/definitions.js";
import { TABLE_LIST } from "#store/tables.js";
import type { DataStack } from "./data-stack.js";
import type { LlmStack } from "./llm-stack.js";
import type { PipelineStack } from "./pipeline-stack.js";

export interface MonitoringStackProps extends StackProps {
  readonly config: DeploymentConfig;
  readonly data: DataStack;
  readonly pipeline: PipelineStack;
  readonly llm: LlmStack;
}

/** Oldest message age that means a stage is stuck; validation allows for a GPU cold start. */
export const MAX_MESSAGE_AGE_SECONDS: Readonly<Record<QueueId, number>> = {
  validation: 30 * 60,
  risk: 5 * 60,
  execution: 5 * 60,
};
export const QUEUE_DEPTH_ALARM = 100;
export const DRAWDOWN_WARNING_PCT = 10;

const FIVE_MINUTES = Duration.minutes(5);

export class MonitoringStack extends Stack {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, data, pipeline, llm } = props;

    // CloudWatch alarms can publish to an encrypted topic only through a key that trusts them
    const key = new Key(this, "AlarmTopicKey", {
      description: "Encrypts the trading pipeline's alarm topic",
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.topic = new Topic(this, "AlarmTopic", {
      displayName: "Trading pipeline alarms",
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new EmailSubscription(config.alarmEmail));
    this.action = new SnsAction(this.topic);

    const fns = Object.values(pipeline.functions);
    for (const fn of fns) this.functionAlarms(fn);

    for (const def of QUEUE_LIST) {
      const wq = pipeline.queues[def.id];
      this.alarm(`${pascal(def.id)}QueueAge`, {
        metric: wq.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: "Maximum" }),
        threshold: MAX_MESSAGE_AGE_SECONDS[def.id],
        description: `The oldest message on ${def.id} waits longer than ${MAX_MESSAGE_AGE_SECONDS[def.id]} s: ${def.consumer} is not keeping up or not running.`,
      });
      this.alarm(`${pascal(def.id)}QueueDepth`, {
        metric: wq.queue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: "Maximum",
        }),
        threshold: QUEUE_DEPTH_ALARM,
        evaluationPeriods: 3,
        description: `More than ${QUEUE_DEPTH_ALARM} messages wait on ${def.id} for 15 minutes.`,
      });
      this.deadLetterAlarm(
        `${pascal(def.id)}DeadLetters`,
        wq.deadLetterQueue,
        `${def.id} queue (${def.consumer})`,
      );
    }
    this.deadLetterAlarm(
      "ScheduleDeadLetters",
      pipeline.scheduleDeadLetterQueue,
      "the EventBridge schedules",
    );
    this.deadLetterAlarm("EventDeadLetters", pipeline.eventDeadLetterQueue, "the trading bus's rules");
    this.alarm("ScheduledRunFailures", {
      metric: pipeline.scheduledRunFailureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: 1,
      description:
        "A scheduled run (market data, signals, bridge, portfolio or position manager) threw or expired; it is not retried and the next run supersedes it. The message holds the error: read it, fix the cause, then purge the queue (docs/DEPLOY.md).",
    });

    for (const def of TABLE_LIST) this.tableThrottleAlarm(def.id, data.tables[def.id]);

    this.alarm("KillSwitchActive", {
      metric: insights("MAX(KillSwitchActive)", FIVE_MINUTES),
      threshold: 1,
      description:
        "The kill switch is active: no new orders are placed until it is resumed (docs/DEPLOY.md).",
    });
    this.alarm("Drawdown", {
      metric: insights("MAX(DrawdownPct)", FIVE_MINUTES),
      threshold: DRAWDOWN_WARNING_PCT,
      description: `Equity is more than ${DRAWDOWN_WARNING_PCT}% below its peak (risk refuses new trades at 15%).`,
    });
    this.moneySafetyAlarms(config);
    this.alarm("NoSignals", {
      metric: insights("SUM(SignalsGenerated)", Duration.minutes(30)),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
      description:
        "The signal generator produced no signal (not even HOLD) for 30 minutes: the model, the candles or the schedule is broken.",
    });

    this.dashboard = this.buildDashboard(config, pipeline, data, llm, fns);
    new CfnOutput(this, "DashboardUrl", {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.dashboard.dashboardName}`,
    });
    new CfnOutput(this, "AlarmTopicArn", { value: this.topic.topicArn });
  }

  private alarm(
    id: string,
    p: {
      metric: IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      comparison?: ComparisonOperator;
      treatMissingData?: TreatMissingData;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      metric: p.metric,
      threshold: p.threshold,
      evaluationPeriods: p.evaluationPeriods ?? 1,
      comparisonOperator: p.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: p.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: p.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * The executor and the portfolio report what they refused or could not see; each is a page, not
   * a graph to look at later. The portfolio writes an equity snapshot every run: none for three
   * periods means the kill switch and the risk limits work from stale numbers.
   */
  private moneySafetyAlarms(config: DeploymentConfig): void {
    this.alarm("ExecutionMessageMismatch", {
      metric: insights("SUM(ExecutionMessageMismatch)", FIVE_MINUTES),
      threshold: 1,
      description:
        "The executor refused an execution message that disagrees with the stored risk decision (symbol, side or size): something other than the risk manager wrote to the execution queue, or a DLQ message was edited. Find the message in the executor's logs and check who can send to the queue.",
    });
    this.alarm("ExecutionPriceRefused", {
      metric: insights("SUM(ExecutionPriceRefused)", FIVE_MINUTES),
      threshold: 1,
      description:
        "The executor refused an order because the venue's quote was outside the sanity band around the last stored close: check the venue's book and the candles before redriving.",
    });
    this.alarm("StuckRecommendations", {
      metric: insights("MAX(StuckRecommendations)", FIVE_MINUTES),
      threshold: 1,
      description:
        "A recommendation has been EXECUTING longer than allowed (a 401 or exhausted retries): resolve it against the exchange with the documented command (docs/DEPLOY.md).",
    });
    this.alarm("UnpricedAssets", {
      metric: insights("MAX(UnpricedAssets)", FIVE_MINUTES),
      threshold: 1,
      description:
        "The portfolio holds assets it could not mark to market (no stored candle and no venue price): equity and drawdown leave them out. Check the portfolio's logs for the assets.",
    });
    this.alarm("ExitsFailed", {
      metric: insights("SUM(ExitsFailed)", FIVE_MINUTES),
      threshold: 1,
      description:
        "An exit (stop, target, trail, time, signal, kill switch) ended FAILED or CANCELLED: the position is open again and the position manager issues the exit anew each minute, up to EXIT_MAX_ATTEMPTS times. Read the exit recommendation's statusReason (venue refusal, holdings gone) in the position manager's and executor's logs.",
    });
    this.alarm("PositionsAwaitingOperator", {
      metric: insights("MAX(PositionsAwaitingOperator)", FIVE_MINUTES),
      threshold: 1,
      description:
        'An exit was refused EXIT_MAX_ATTEMPTS times: the position manager issues no automatic exit on that position until an operator sells it ({"action":"exit"}) or clears the hold ({"action":"retry-exits"}) with the position-manager function. Its error log names the position and the exit; list them with {"action":"list"}.',
    });
    this.alarm("PositionsNotEvaluated", {
      metric: insights("MAX(PositionsNotEvaluated)", FIVE_MINUTES),
      threshold: 1,
      evaluationPeriods: 2,
      description:
        "The position manager could not evaluate some open positions for 10 minutes (no venue price, a store error): their exits are not acting. Check the position manager's error logs.",
    });
    this.alarm("UnprotectedPositions", {
      metric: insights("SUM(UnprotectedPositions)", FIVE_MINUTES),
      threshold: 1,
      description:
        "An entry filled without a usable stop-loss: it is held with no exit rule (none is invented). Sell it by hand or open its exits (docs/ARCHITECTURE.md, Exits); the portfolio's error log names it.",
    });
    this.alarm("ChainLatency", {
      metric: chainLatency(END_TO_END_HOP, "p99"),
      threshold: config.chainLatencyAlarmSeconds * 1000,
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The p99 time from a candle's close to the order the venue accepted exceeded ${config.chainLatencyAlarmSeconds} s over 15 minutes (chainLatencyAlarmSeconds). The dashboard's latency widget shows which hop is slow: QueuedToValidated is the LLM (a cold GPU task?), CandleToSignal market data and signals (did the CandlesClosed rule fire? see the events DLQ).`,
    });
    const window = equitySnapshotAlarmWindow(config.scheduleMinutes.portfolio);
    this.alarm("NoEquitySnapshots", {
      metric: insights("COUNT(EquityUsd)", Duration.minutes(window.periodMinutes)),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: window.evaluationPeriods,
      treatMissingData: TreatMissingData.BREACHING,
      description: `The portfolio wrote no equity snapshot for ${window.periodMinutes * window.evaluationPeriods} minutes: drawdown, the daily-loss limit and the automatic kill switch are blind. Check the portfolio function's errors and the scheduled-runs DLQ.`,
    });
  }

  private functionAlarms(fn: PipelineFunction): void {
    const id = pascal(fn.name);
    this.alarm(`${id}Errors`, {
      metric: fn.fn.metricErrors({ period: FIVE_MINUTES, statistic: "Sum" }),
      threshold: 1,
      description: `${fn.name} threw at least once in 5 minutes (logs: ${fn.logGroup.logGroupName}).`,
    });
    this.alarm(`${id}Throttles`, {
      metric: fn.fn.metricThrottles({ period: FIVE_MINUTES, statistic: "Sum" }),
      threshold: 1,
      description: `${fn.name} was throttled; queued work waits and may reach its dead-letter queue.`,
    });
    const limitMs = fn.timeout.toMilliseconds();
    this.alarm(`${id}Duration`, {
      metric: fn.fn.metricDuration({ period: FIVE_MINUTES, statistic: "p99" }),
      threshold: Math.round(limitMs * 0.8),
      evaluationPeriods: 3,
      description: `${fn.name} p99 duration is above 80% of its ${limitMs / 1000} s timeout for 15 minutes.`,
    });
  }

  private deadLetterAlarm(id: string, dlq: IQueue, of: string): void {
    this.alarm(id, {
      metric: dlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: 1,
      description: `A message reached the dead-letter queue of ${of}: inspect it, fix the cause, then redrive it (docs/DEPLOY.md).`,
    });
  }

  private tableThrottleAlarm(id: string, table: ITable): void {
    const dims = { TableName: table.tableName };
    const m = (metricName: string) =>
      new Metric({
        namespace: "AWS/DynamoDB",
        metricName,
        dimensionsMap: dims,
        statistic: "Sum",
        period: FIVE_MINUTES,
      });
    this.alarm(`${pascal(id)}TableThrottles`, {
      metric: new MathExpression({
        label: `${id} throttle events`,
        expression: "reads + writes",
        usingMetrics: { reads: m("ReadThrottleEvents"), writes: m("WriteThrottleEvents") },
        period: FIVE_MINUTES,
      }),
      threshold: 1,
      description: `DynamoDB throttled requests on the ${id} table.`,
    });
  }

  private buildDashboard(
    config: DeploymentConfig,
    pipeline: PipelineStack,
    data: DataStack,
    llm: LlmStack,
    fns: PipelineFunction[],
  ): Dashboard {
    const d = new Dashboard(this, "Dashboard", {
      dashboardName: `${config.resourcePrefix}-pipeline`,
      defaultInterval: Duration.hours(12),
    });
    const w = 8;
    const h = 6;
    d.addWidgets(
      new TextWidget({
        markdown: `# Trading pipeline (${config.tradingMode})\nSignals -> LLM (${config.ollamaModel}) -> risk -> execution. Alarms go to the SNS topic; runbook in docs/DEPLOY.md.`,
        width: 24,
        height: 2,
      }),
    );
    d.addWidgets(
      new SingleValueWidget({
        title: "Equity (USD) / drawdown (%) / kill switch",
        metrics: [
          insights("MAX(EquityUsd)", FIVE_MINUTES, "EquityUsd"),
          insights("MAX(DrawdownPct)", FIVE_MINUTES, "DrawdownPct"),
          insights("MAX(KillSwitchActive)", FIVE_MINUTES, "KillSwitchActive"),
        ],
        width: 12,
        height: 4,
      }),
      new GraphWidget({
        title: "Equity (USD)",
        left: [insights("MAX(EquityUsd)", FIVE_MINUTES, "EquityUsd")],
        right: [insights("MAX(DrawdownPct)", FIVE_MINUTES, "DrawdownPct")],
        width: 12,
        height: 4,
      }),
    );
    d.addWidgets(
      new GraphWidget({
        title: "Latency, candle close → order accepted, per hop (p50 and p99, ms)",
        left: CHAIN_HOPS.flatMap((hop) => [chainLatency(hop, "p50"), chainLatency(hop, "p99")]),
        width: 24,
        height: 6,
      }),
    );
    d.addWidgets(
      graph(
        "Signals by type",
        [insights("SUM(SignalsGenerated)", FIVE_MINUTES, undefined, "signalType")],
        w,
        h,
      ),
      graph(
        "Recommendations by state",
        [insights("SUM(RecommendationsByState)", FIVE_MINUTES, undefined, "state")],
        w,
        h,
      ),
      graph("LLM decisions", [insights("SUM(LlmDecision)", FIVE_MINUTES, undefined, "decision")], w, h),
      graph(
        "LLM latency (ms, p50 / p90)",
        [search("LlmLatencyMs", "p50"), search("LlmLatencyMs", "p90")],
        w,
        h,
      ),
      graph(
        "Risk refusals by reason",
        [insights("SUM(RiskRefusals)", FIVE_MINUTES, undefined, "reason")],
        w,
        h,
      ),
      graph(
        "Orders placed / fills",
        [
          insights("SUM(OrdersPlaced)", FIVE_MINUTES, "OrdersPlaced"),
          insights("SUM(OrderFills)", FIVE_MINUTES, "OrderFills"),
        ],
        w,
        h,
      ),
      graph(
        "Exits by reason / failed exits / open positions",
        [
          insights("SUM(ExitsIssued)", FIVE_MINUTES, undefined, "reason"),
          insights("SUM(ExitsFailed)", FIVE_MINUTES, "ExitsFailed"),
          insights("MAX(OpenManagedPositions)", FIVE_MINUTES, "OpenManagedPositions"),
        ],
        w,
        h,
      ),
      graph(
        "Slippage (bps, avg / max)",
        [search("SlippageBps", "Average"), search("SlippageBps", "Maximum")],
        w,
        h,
      ),
      graph(
        "Refused and unseen (executor mismatches, price refusals, stuck, unpriced)",
        [
          insights("SUM(ExecutionMessageMismatch)", FIVE_MINUTES, "ExecutionMessageMismatch"),
          insights("SUM(ExecutionPriceRefused)", FIVE_MINUTES, "ExecutionPriceRefused"),
          insights("MAX(StuckRecommendations)", FIVE_MINUTES, "StuckRecommendations"),
          insights("MAX(UnpricedAssets)", FIVE_MINUTES, "UnpricedAssets"),
        ],
        w,
        h,
      ),
    );
    const queues = QUEUE_LIST.map((def) => pipeline.queues[def.id]);
    d.addWidgets(
      graph(
        "Queue depth (visible)",
        queues.map((q) =>
          q.queue.metricApproximateNumberOfMessagesVisible({
            label: q.definition.id,
            period: Duration.minutes(1),
          }),
        ),
        w,
        h,
      ),
      graph(
        "Oldest message (s)",
        queues.map((q) =>
          q.queue.metricApproximateAgeOfOldestMessage({
            label: q.definition.id,
            period: Duration.minutes(1),
          }),
        ),
        w,
        h,
      ),
      graph(
        "Dead-letter queues",
        [
          ...queues.map((q) =>
            q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              label: `${q.definition.id} DLQ`,
              period: Duration.minutes(1),
            }),
          ),
          pipeline.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: "schedules DLQ",
            period: Duration.minutes(1),
          }),
          pipeline.scheduledRunFailureQueue.metricApproximateNumberOfMessagesVisible({
            label: "scheduled runs DLQ",
            period: Duration.minutes(1),
          }),
          pipeline.eventDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: "events DLQ",
            period: Duration.minutes(1),
          }),
        ],
        w,
        h,
      ),
    );
    d.addWidgets(
      graph(
        "Invocations",
        fns.map((f) => f.fn.metricInvocations({ label: f.name, period: FIVE_MINUTES })),
        w,
        h,
      ),
      graph(
        "Errors",
        fns.map((f) => f.fn.metricErrors({ label: f.name, period: FIVE_MINUTES })),
        w,
        h,
      ),
      graph(
        "Throttles",
        fns.map((f) => f.fn.metricThrottles({ label: f.name, period: FIVE_MINUTES })),
        w,
        h,
      ),
      graph(
        "Duration p99 (ms)",
        fns.map((f) => f.fn.metricDuration({ label: f.name, statistic: "p99", period: FIVE_MINUTES })),
        w,
        h,
      ),
      graph(
        "DynamoDB throttle events",
        TABLE_LIST.flatMap((def) =>
          ["ReadThrottleEvents", "WriteThrottleEvents"].map(
            (metricName) =>
              new Metric({
                namespace: "AWS/DynamoDB",
                metricName,
                dimensionsMap: { TableName: data.tables[def.id].tableName },
                statistic: "Sum",
                period: FIVE_MINUTES,
                label: `${def.id} ${metricName.replace("ThrottleEvents", "")}`,
              }),
          ),
        ),
        w,
        h,
      ),
      graph(
        "LLM validator (ECS)",
        [
          llm.service.metricCpuUtilization({ label: "CPU %", period: Duration.minutes(1) }),
          llm.service.metricMemoryUtilization({ label: "memory %", period: Duration.minutes(1) }),
        ],
        w,
        h,
      ),
    );
    d.addWidgets(new AlarmStatusWidget({ title: "Alarms", alarms: this.alarms, width: 24, height: 6 }));
    return d;
  }
}

/**
 * Periods of the "no equity snapshot" alarm: at least 5 minutes and at least one portfolio period
 * each, three of them, all within the 3 hours a Metrics Insights alarm can look back.
 */
export function equitySnapshotAlarmWindow(portfolioMinutes: number): {
  periodMinutes: number;
  evaluationPeriods: number;
} {
  const periodMinutes = Math.max(5, portfolioMinutes);
  const evaluationPeriods = 3;
  if (periodMinutes * evaluationPeriods > 180) {
    throw new Error(
      `The portfolio runs every ${portfolioMinutes} minutes: the equity-snapshot alarm needs three runs within 3 hours (run it at least hourly).`,
    );
  }
  return { periodMinutes, evaluationPeriods };
}

/** A Metrics Insights query over the whole namespace, optionally one line per value of `groupBy`. */
function insights(select: string, period: Duration, label?: string, groupBy?: string): MathExpression {
  const metricName = select.slice(select.indexOf("(") + 1, select.indexOf(")"));
  return new MathExpression({
    expression: `SELECT ${select} FROM "${METRICS_NAMESPACE}"${groupBy ? ` GROUP BY ${groupBy}` : ""}`,
    label: label ?? metricName,
    period,
    usingMetrics: {},
  });
}

function search(metricName: string, statistic: string): MathExpression {
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE}} MetricName="${metricName}"', '${statistic}', 300)`,
    label: `${metricName} ${statistic}`,
    period: FIVE_MINUTES,
    usingMetrics: {},
  });
}

/** ChainLatencyMs of one hop as the trade executor emits it (service and hop dimensions), over 15 minutes. */
function chainLatency(hop: ChainHop, statistic: "p50" | "p99"): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: "ChainLatencyMs",
    dimensionsMap: { service: "trade-executor", hop },
    statistic,
    period: Duration.minutes(15),
    label: `${hop} ${statistic}`,
  });
}

function graph(title: string, metrics: IMetric[], width: number, height: number): GraphWidget {
  return new GraphWidget({ title, left: metrics, width, height });
}

function pascal(id: string): string {
  return id
    .split(/[-_]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}
