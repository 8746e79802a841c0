/**
 * State that outlives every deployment: the DynamoDB tables (built only from the shared
 * definitions) and the Coinbase API key secret.
 */
import { CfnOutput, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from "aws-cdk-lib";
import {
  AttributeType,
  BillingMode,
  type Attribute as CdkKeyAttribute,
  type ITable,
  Table,
  TableEncryption,
} from "aws-cdk-lib/aws-dynamodb";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "#infra/config.js";
import { type KeyAttribute, TABLE_LIST, type TableDefinition, type TableId } from "#store/tables.js";

export interface DataStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** The shape executor and portfolio expect; created empty so no key material ever sits in a template. */
export const COINBASE_SECRET_TEMPLATE = { name: "", privateKey: "" } as const;

export class DataStack extends Stack {
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly coinbaseSecret: ISecret;
  /** the customer-managed KMS key of an imported secret (context coinbaseSecretKmsKeyArn) */
  readonly coinbaseSecretKmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);

    const tables = {} as Record<TableId, ITable>;
    for (const def of TABLE_LIST) tables[def.id] = buildTable(this, def);
    this.tables = tables;

    if (props.config.coinbaseSecretArn) {
      this.coinbaseSecret = Secret.fromSecretCompleteArn(
        this,
        "CoinbaseApiKey",
        props.config.coinbaseSecretArn,
      );
      // an imported secret may be encrypted with a customer-managed key: its readers then need
      // kms:Decrypt on it (PipelineFunction.readsSecret), or GetSecretValue is denied
      this.coinbaseSecretKmsKeyArn = props.config.coinbaseSecretKmsKeyArn || undefined;
    } else {
      const secret = new Secret(this, "CoinbaseApiKey", {
        description:
          'Coinbase Advanced Trade API key as {"name": "organizations/.../apiKeys/...", "privateKey": "-----BEGIN EC PRIVATE KEY-----..."}; empty until an operator puts the key (docs/DEPLOY.md).',
        // a template without key material: the value is set out of band with put-secret-value
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify(COINBASE_SECRET_TEMPLATE)),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "Coinbase API keys are issued in the Coinbase Developer Platform UI; no Lambda can mint a new one, so Secrets Manager rotation cannot apply. Rotate by creating a new key in Coinbase and putting it here (docs/DEPLOY.md).",
      });
      this.coinbaseSecret = secret;
    }
    new CfnOutput(this, "CoinbaseSecretArn", {
      value: this.coinbaseSecret.secretArn,
      description: 'Put the Coinbase key here: {"name": "...", "privateKey": "..."} (docs/DEPLOY.md)',
    });
    for (const def of TABLE_LIST) {
      new CfnOutput(this, `${pascal(def.id)}TableName`, { value: this.tables[def.id].tableName });
    }
  }
}

function toCdkKey(key: KeyAttribute): CdkKeyAttribute {
  return { name: key.name, type: key.type === "S" ? AttributeType.STRING : AttributeType.NUMBER };
}

function buildTable(scope: Construct, def: TableDefinition): Table {
  const table = new Table(scope, `${pascal(def.id)}Table`, {
    partitionKey: toCdkKey(def.partitionKey),
    sortKey: def.sortKey ? toCdkKey(def.sortKey) : undefined,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: def.timeToLiveAttribute,
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
  });
  for (const gsi of def.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: gsi.indexName,
      partitionKey: toCdkKey(gsi.partitionKey),
      sortKey: gsi.sortKey ? toCdkKey(gsi.sortKey) : undefined,
    });
  }
  return table;
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
