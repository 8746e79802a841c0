/**
 * The parts of the IAM behaviour check (iam-behaviour.test.ts) on their own: what a recorded
 * request means to IAM, how a template's intrinsics resolve, and how a role's statements decide.
 */
import { describe, expect, it } from "vitest";
import { callsOf, principalOf } from "#test/support/iam/aws-call-recorder.js";
import { type Deployment, resolveIntrinsics } from "#test/support/iam/cloudformation.js";
import { evaluate, type PolicyStatement } from "#test/support/iam/iam-policy.js";

const TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t-portfolio";

describe("what a recorded request means to IAM", () => {
  it("names the caller by the access key the request was signed with", () => {
    expect(
      principalOf(
        "AWS4-HMAC-SHA256 Credential=risk-manager/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
      ),
    ).toBe("risk-manager");
    expect(principalOf(undefined)).toBe("<unsigned>");
  });

  it("a Query on an index is on the index; a batch write is one call per table", () => {
    expect(callsOf("dynamodb", "Query", { TableName: "t-recs", IndexName: "byStatus" })).toEqual([
      { action: "dynamodb:Query", resource: { kind: "table", name: "t-recs", index: "byStatus" } },
    ]);
    expect(
      callsOf("dynamodb", "BatchWriteItem", { RequestItems: { "t-a": [], "t-b": [] } }).map(
        (c) => c.resource,
      ),
    ).toEqual([
      { kind: "table", name: "t-a" },
      { kind: "table", name: "t-b" },
    ]);
  });

  it("SQS batch operations are authorized by the single-message action", () => {
    const [call] = callsOf("sqs", "DeleteMessageBatch", {
      QueueUrl: "http://127.0.0.1:1/123456789012/t-risk",
    });
    expect(call).toEqual({
      action: "sqs:DeleteMessage",
      resource: { kind: "queue", url: "http://127.0.0.1:1/123456789012/t-risk", name: "t-risk" },
    });
  });
});

describe("resolving a template's intrinsics", () => {
  const deployment: Deployment = {
    region: "us-east-1",
    account: "123456789012",
    templates: {
      Data: {
        Resources: { Table1: { Type: "AWS::DynamoDB::Table" } },
        Outputs: {
          Arn: { Value: { "Fn::GetAtt": ["Table1", "Arn"] }, Export: { Name: "Data:Table1Arn" } },
        },
      },
      Pipeline: { Resources: {} },
    },
    physical: {
      Data: { Table1: { ref: "t-recs", attributes: { Arn: "arn:aws:dynamodb:us-east-1:1:table/t-recs" } } },
    },
  };

  it("follows an import across stacks and joins an index ARN", () => {
    expect(
      resolveIntrinsics(deployment, "Pipeline", {
        "Fn::Join": ["", [{ "Fn::ImportValue": "Data:Table1Arn" }, "/index/byStatus"]],
      }),
    ).toBe("arn:aws:dynamodb:us-east-1:1:table/t-recs/index/byStatus");
  });

  it("a resource that was not deployed locally resolves to a marker no ARN equals; an unknown intrinsic throws", () => {
    const arn = resolveIntrinsics(deployment, "Pipeline", { "Fn::GetAtt": ["LogGroup", "Arn"] }) as string;
    expect(arn).toBe("<unresolved:Pipeline/LogGroup.Arn>");
    expect(
      evaluate([{ Effect: "Allow", Action: "logs:*", Resource: arn }], "logs:PutLogEvents", "*").allowed,
    ).toBe(false);
    expect(() => resolveIntrinsics(deployment, "Pipeline", { "Fn::Cidr": ["10.0.0.0/16", 2, 8] })).toThrow(
      /cannot resolve Fn::Cidr/,
    );
    expect(() => resolveIntrinsics(deployment, "Pipeline", { "Fn::ImportValue": "Nope" })).toThrow(
      /No stack exports Nope/,
    );
  });
});

describe("evaluating a role's statements", () => {
  const read: PolicyStatement = {
    Effect: "Allow",
    Action: ["dynamodb:GetItem", "dynamodb:Query"],
    Resource: TABLE,
  };

  it("allows only the listed actions on the listed resources", () => {
    expect(evaluate([read], "dynamodb:Query", TABLE)).toEqual({ allowed: true });
    expect(evaluate([read], "dynamodb:UpdateItem", TABLE)).toEqual({ allowed: false, reason: "no-allow" });
    expect(evaluate([read], "dynamodb:Query", `${TABLE}/index/byStatus`).allowed).toBe(false);
    expect(evaluate([read], "dynamodb:Query", TABLE.replace("portfolio", "orders")).allowed).toBe(false);
  });

  it("matches IAM wildcards (actions case-insensitively) and lets an explicit Deny win", () => {
    const wide: PolicyStatement = { Effect: "Allow", Action: "DynamoDB:Get*", Resource: `${TABLE}*` };
    expect(evaluate([wide], "dynamodb:GetItem", `${TABLE}/index/x`).allowed).toBe(true);
    expect(evaluate([wide], "dynamodb:PutItem", TABLE).allowed).toBe(false);
    const deny: PolicyStatement = { Effect: "Deny", Action: "dynamodb:*", Resource: "*" };
    expect(evaluate([wide, deny], "dynamodb:GetItem", TABLE)).toEqual({
      allowed: false,
      reason: "explicit-deny",
    });
    const notResource: PolicyStatement = {
      Effect: "Allow",
      Action: "sqs:SendMessage",
      NotResource: "arn:aws:sqs:*:*:dlq",
    };
    expect(evaluate([notResource], "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:risk").allowed).toBe(true);
    expect(evaluate([notResource], "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:dlq").allowed).toBe(false);
  });

  it("never counts a conditional Allow as a grant (the request context is unknown here)", () => {
    const conditional: PolicyStatement = { ...read, Condition: { Bool: { "aws:SecureTransport": "true" } } };
    expect(evaluate([conditional], "dynamodb:Query", TABLE)).toEqual({ allowed: false, reason: "no-allow" });
  });
});
