/**
 * One queue of the recommendation chain with its dead-letter queue, built from the shared
 * definition (functions/shared/queues/definitions.ts) so the cloud and the local cloud agree.
 */
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  deadLetterQueueName,
  type QueueDefinition,
  queueName,
  visibilityTimeoutSeconds,
} from "#queues/definitions.js";

export interface WorkQueueProps {
  readonly definition: QueueDefinition;
  readonly resourcePrefix: string;
  /** overrides 6x the definition's consumer timeout (the LLM validator's depends on its capacity) */
  readonly visibilityTimeoutSeconds?: number;
}

export class WorkQueue extends Construct {
  readonly definition: QueueDefinition;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const def = props.definition;
    this.definition = def;

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      queueName: deadLetterQueueName(def.id, props.resourcePrefix),
      fifo: def.fifo || undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // the maximum, so an operator has two weeks to inspect and redrive a failed recommendation
      retentionPeriod: Duration.days(14),
      // failed recommendations outlive the stack (and a replacement of the queue)
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: `This queue is the dead-letter queue of ${queueName(def.id, props.resourcePrefix)}; a DLQ of a DLQ would hide failures instead of alarming on them.`,
    });

    this.queue = new Queue(this, "Queue", {
      queueName: queueName(def.id, props.resourcePrefix),
      // FIFO: one message group, deduplication ids set by the sender (functions/shared/queues/sender.ts)
      fifo: def.fifo || undefined,
      contentBasedDeduplication: def.fifo ? false : undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds(def)),
      retentionPeriod: Duration.days(def.messageRetentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: def.maxReceiveCount },
    });
  }
}
