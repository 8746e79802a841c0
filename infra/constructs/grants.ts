/**
 * Least-privilege grants shared by Lambda functions and the ECS validator task.
 *
 * The table grants are narrower than `grantReadData` / `grantReadWriteData`: no Scan (no hot path
 * scans, see DESIGN.md rule 6) and every index named by its ARN instead of `index/*`, so no IAM
 * statement carries a wildcard resource. The actions are the ones the functions' code issues and
 * nothing more: test/infra/iam-behaviour.test.ts runs the deployed pipeline, records every AWS call
 * each function makes and checks these lists (and each role) against them.
 */

import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { TableDefinition } from "#store/tables.js";

export type TableAccess = "read" | "readWrite";

/** GetItem and Query only: no Scan, no batch reads, no DescribeTable (the code issues none of them). */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"] as const;

export const TABLE_WRITE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
] as const;

/** Producers send with the URL from their environment: no GetQueueUrl, no GetQueueAttributes. */
export const QUEUE_SEND_ACTIONS = ["sqs:SendMessage"] as const;

/**
 * The validator worker's poller (functions/shared/queues/poller.ts): receive, delete what succeeded,
 * and hand a failed message back early (ChangeMessageVisibilityBatch). Lambda consumers get their
 * event source mapping's grant from CDK instead.
 */
export const QUEUE_CONSUME_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
] as const;

/** ARNs of the table and of each of its indexes, as the definitions name them. */
export function tableResourceArns(table: ITable, def: TableDefinition): string[] {
  return [
    table.tableArn,
    ...def.globalSecondaryIndexes.map((gsi) => `${table.tableArn}/index/${gsi.indexName}`),
  ];
}

export function grantTableAccess(
  grantee: IGrantable,
  table: ITable,
  def: TableDefinition,
  access: TableAccess,
): void {
  const actions: string[] = [...TABLE_READ_ACTIONS];
  if (access === "readWrite") actions.push(...TABLE_WRITE_ACTIONS);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: tableResourceArns(table, def) }),
  );
}

/** Producers: SendMessage only (SQS-managed SSE needs no KMS grant). */
export function grantQueueSend(grantee: IGrantable, queue: IQueue): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...QUEUE_SEND_ACTIONS], resources: [queue.queueArn] }),
  );
}

/** Consumers: receive, delete, hand back; nothing else. */
export function grantQueueConsume(grantee: IGrantable, queue: IQueue): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...QUEUE_CONSUME_ACTIONS], resources: [queue.queueArn] }),
  );
}
