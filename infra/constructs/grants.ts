/**
 * Least-privilege grants shared by Lambda functions and the ECS validator task.
 *
 * The table grants are narrower than `grantReadData` / `grantReadWriteData`: no Scan (no hot path
 * scans, see DESIGN.md rule 6) and every index named by its ARN instead of `index/*`, so no IAM
 * statement carries a wildcard resource.
 */

import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { TableDefinition } from "../../functions/shared/store/tables.js";

export type TableAccess = "read" | "readWrite";

export const TABLE_READ_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
] as const;

export const TABLE_WRITE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
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
    new PolicyStatement({
      actions: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
      resources: [queue.queueArn],
    }),
  );
}

/** Consumers: receive, delete, extend visibility; nothing else. */
export function grantQueueConsume(grantee: IGrantable, queue: IQueue): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
      ],
      resources: [queue.queueArn],
    }),
  );
}
