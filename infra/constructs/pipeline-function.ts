/**
 * What every Lambda of the pipeline shares: Node 22 on ARM64, ESM bundled by the LOCAL esbuild
 * (synth never needs Docker), source maps, X-Ray, Powertools settings, a one-month log group and
 * a role that starts with nothing but that log group. Access to tables, queues and the secret is
 * added one resource at a time through the methods below.
 */
import * as path from "node:path";
import { type Duration, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, type ILayerVersion, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import {
  type ICommandHooks,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE } from "#defaults";
import type { DeploymentConfig } from "#infra/config.js";
import type { TableDefinition } from "#store/tables.js";
import { grantQueueSend, grantTableAccess, type TableAccess } from "./grants.js";
import type { WorkQueue } from "./work-queue.js";

export { METRICS_NAMESPACE };

/** The repository root: entries, lock file and models are resolved from here, not from the cwd. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

/**
 * esbuild's ESM output has no `require`; CommonJS dependencies bundled into it (and Node built-ins
 * they require) need one, so the bundle starts by creating it.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __pipelineCreateRequire } from 'node:module'; const require = __pipelineCreateRequire(import.meta.url);";

export interface PipelineFunctionProps {
  /** folder under functions/ holding handler.ts; also the Powertools service name */
  readonly name: string;
  readonly description: string;
  readonly config: DeploymentConfig;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly reservedConcurrentExecutions?: number;
  readonly layers?: ILayerVersion[];
  /** modules a layer provides at run time instead of the bundle */
  readonly externalModules?: string[];
  readonly commandHooks?: ICommandHooks;
  readonly environment?: Record<string, string>;
}

export interface ConsumeOptions {
  readonly batchSize: number;
  /**
   * ESM concurrency cap (minimum 2). For "exactly one at a time" use a FIFO queue with one message
   * group instead: Lambda invokes a FIFO source at most once per active group, with no reserved
   * concurrency (and so no account quota) and no throttling.
   */
  readonly maxConcurrency?: number;
}

export class PipelineFunction extends Construct {
  readonly name: string;
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.name = props.name;
    this.timeout = props.timeout;

    this.logGroup = new LogGroup(this, "Logs", { retention: RetentionDays.ONE_MONTH });

    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Runs the ${props.name} Lambda of the trading pipeline`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, "Function", {
      entry: path.join(REPO_ROOT, "functions", props.name, "handler.ts"),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      layers: props.layers,
      environment: {
        TRADING_MODE: props.config.tradingMode,
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.config.logLevel,
        LOG_LEVEL: props.config.logLevel,
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        minify: true,
        keepNames: true,
        // the SDK is bundled so the cloud runs the SDK version the tests ran, not the runtime's
        bundleAwsSDK: true,
        externalModules: props.externalModules ?? [],
        commandHooks: props.commandHooks,
      },
    });

    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Pinned to nodejs22.x on purpose: the project's toolchain (node@22 devDependency), tests and the onnxruntime-node layer target Node 22; moving to a newer runtime is a deliberate upgrade.",
    });
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Only X-Ray's xray:PutTraceSegments / xray:PutTelemetryRecords (added by Tracing.ACTIVE) use Resource *: X-Ray has no resource-level permissions for them.",
    });
  }

  /** Table name in the function's environment (the env var from the shared definition) plus the grant. */
  usesTable(table: ITable, def: TableDefinition, access: TableAccess): this {
    this.fn.addEnvironment(def.envVar, table.tableName);
    grantTableAccess(this.role, table, def, access);
    return this;
  }

  sendsTo(queue: WorkQueue): this {
    this.fn.addEnvironment(queue.definition.urlEnvVar, queue.queue.queueUrl);
    grantQueueSend(this.role, queue.queue);
    return this;
  }

  /** Consumes a chain queue; failed records come back one by one through reportBatchItemFailures. */
  consumes(queue: WorkQueue, options: ConsumeOptions): this {
    this.fn.addEnvironment(queue.definition.urlEnvVar, queue.queue.queueUrl);
    // the event source grants receive/delete/change-visibility on this queue alone
    this.fn.addEventSource(
      new SqsEventSource(queue.queue as IQueue, {
        batchSize: options.batchSize,
        maxConcurrency: options.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    return this;
  }

  /**
   * The Coinbase API key: its ARN in COINBASE_SECRET_ARN and read access, for this function only.
   * A secret encrypted with a customer-managed key also needs kms:Decrypt on that key, allowed
   * only through Secrets Manager (kms:ViaService), never for direct use of the key.
   */
  readsSecret(secret: ISecret, kmsKeyArn?: string, envVar = "COINBASE_SECRET_ARN"): this {
    this.fn.addEnvironment(envVar, secret.secretArn);
    secret.grantRead(this.role);
    if (kmsKeyArn) {
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ["kms:Decrypt"],
          resources: [kmsKeyArn],
          conditions: {
            StringEquals: { "kms:ViaService": `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    return this;
  }
}
