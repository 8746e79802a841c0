/**
 * A recording endpoint in front of the local cloud: every DynamoDB, SQS and Secrets Manager request
 * a process sends to it is recorded (who, which IAM action, on which table, index, queue or secret,
 * with what result) and passed on unchanged to the real local server. Secrets Manager has no local
 * server; this endpoint answers GetSecretValue itself from the secrets it is given.
 *
 * "Who" is the access key id the request was signed with, exactly as IAM identifies a caller: each
 * function runs with its own key, so a call is attributed to the function that made it without any
 * hook in the function's code.
 */
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export type AwsService = "dynamodb" | "sqs" | "secretsmanager";

export type AwsResource =
  | { kind: "table"; name: string; index?: string }
  | { kind: "queue"; url: string; name: string }
  | { kind: "secret"; id: string };

export interface AwsCall {
  /** the access key id the request was signed with */
  principal: string;
  service: AwsService;
  /** the API operation on the wire, e.g. DeleteMessageBatch */
  operation: string;
  /** the IAM action that authorizes it, e.g. sqs:DeleteMessage */
  action: string;
  resource: AwsResource;
  /** the HTTP status of the answer; 0 while the call is still waiting for one */
  status: number;
  /** the error's __type when the call failed */
  errorType?: string;
}

export interface AwsCallRecorder {
  /** http://127.0.0.1:<port>: use it as AWS_ENDPOINT_URL_DYNAMODB, _SQS and _SECRETS_MANAGER */
  endpoint: string;
  calls: AwsCall[];
  close(): Promise<void>;
}

export interface RecorderOptions {
  upstream: { dynamodb: string; sqs: string };
  /** secret ARN -> SecretString, served by GetSecretValue */
  secrets?: Record<string, string>;
}

/** IAM authorizes SQS batch operations with the single-message action. */
const SQS_BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: "SendMessage",
  DeleteMessageBatch: "DeleteMessage",
  ChangeMessageVisibilityBatch: "ChangeMessageVisibility",
};

const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
  Get: "GetItem",
};

// biome-ignore lint/suspicious/noExplicitAny: request bodies of three AWS JSON protocols
type Body = Record<string, any>;

export function principalOf(authorization: string | undefined): string {
  const match = authorization?.match(/Credential=([^/]+)\//);
  return match ? match[1] : "<unsigned>";
}

function queueNameOf(url: string): string {
  return new URL(url).pathname.split("/").filter(Boolean).pop() ?? url;
}

/** The IAM actions and resources one request exercises (a batch or transaction may touch several tables). */
export function callsOf(
  service: AwsService,
  operation: string,
  body: Body,
): { action: string; resource: AwsResource }[] {
  switch (service) {
    case "dynamodb": {
      if (operation === "BatchWriteItem" || operation === "BatchGetItem") {
        return Object.keys(body.RequestItems ?? {}).map((name) => ({
          action: `dynamodb:${operation}`,
          resource: { kind: "table", name },
        }));
      }
      if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
        return (body.TransactItems ?? []).map((item: Body) => {
          const [kind] = Object.keys(item);
          return {
            action: `dynamodb:${TRANSACT_ITEM_ACTIONS[kind] ?? kind}`,
            resource: { kind: "table", name: item[kind].TableName },
          };
        });
      }
      return [
        {
          action: `dynamodb:${operation}`,
          resource: { kind: "table", name: body.TableName, index: body.IndexName },
        },
      ];
    }
    case "sqs": {
      const action = `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`;
      if (body.QueueUrl) {
        return [
          { action, resource: { kind: "queue", url: body.QueueUrl, name: queueNameOf(body.QueueUrl) } },
        ];
      }
      return [{ action, resource: { kind: "queue", url: "", name: body.QueueName ?? "" } }];
    }
    case "secretsmanager":
      return [{ action: `secretsmanager:${operation}`, resource: { kind: "secret", id: body.SecretId } }];
  }
}

function parseRequest(
  req: IncomingMessage,
  raw: string,
): { service: AwsService; operation: string; body: Body } {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") {
    const [prefix, operation] = target.split(".");
    const body = raw ? (JSON.parse(raw) as Body) : {};
    if (prefix.startsWith("DynamoDB_")) return { service: "dynamodb", operation, body };
    if (prefix === "AmazonSQS") return { service: "sqs", operation, body };
    if (prefix === "secretsmanager") return { service: "secretsmanager", operation, body };
    throw new Error(`unknown X-Amz-Target ${target}`);
  }
  // the SQS Query protocol (form-encoded)
  const form = Object.fromEntries(new URLSearchParams(raw));
  if (!form.Action) throw new Error(`cannot tell which AWS API this request is for: ${raw.slice(0, 200)}`);
  return { service: "sqs", operation: form.Action, body: form };
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

function errorTypeOf(status: number, body: Buffer): string | undefined {
  if (status < 400) return undefined;
  const text = body.toString("utf8");
  try {
    const type = (JSON.parse(text) as { __type?: string }).__type;
    return type?.split("#").pop() ?? `HTTP ${status}`;
  } catch {
    return text.match(/<Code>([^<]+)<\/Code>/)?.[1] ?? `HTTP ${status}`;
  }
}

export async function startAwsCallRecorder(options: RecorderOptions): Promise<AwsCallRecorder> {
  const calls: AwsCall[] = [];
  const agent = new Agent({ keepAlive: true });

  const forward = (upstream: string, req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>(
      (resolve, reject) => {
        const target = new URL(upstream);
        const out = request(
          {
            agent,
            hostname: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: target.host, "content-length": String(body.length) },
          },
          async (res) => {
            try {
              const payload = await readBody(res);
              const headers: Record<string, string | string[]> = {};
              for (const [k, v] of Object.entries(res.headers)) {
                if (v !== undefined && k !== "transfer-encoding" && k !== "connection") headers[k] = v;
              }
              headers["content-length"] = String(payload.length);
              resolve({ status: res.statusCode ?? 500, headers, body: payload });
            } catch (error) {
              reject(error);
            }
          },
        );
        out.on("error", reject);
        out.end(body);
      },
    );

  let closing = false;
  /**
   * SQS answers a long poll as soon as a message is visible; the local server may hold it for the
   * whole wait. So a long poll is passed on as short polls, one every 50 ms, until one returns
   * messages or the wait is over.
   */
  const longPoll = async (req: IncomingMessage, body: Body) => {
    const deadline = Date.now() + Number(body.WaitTimeSeconds) * 1000;
    const short = Buffer.from(JSON.stringify({ ...body, WaitTimeSeconds: 0 }));
    for (;;) {
      const reply = await forward(options.upstream.sqs, req, short);
      const messages = reply.status === 200 ? (JSON.parse(reply.body.toString("utf8")).Messages ?? []) : [];
      if (messages.length > 0 || reply.status !== 200 || closing || Date.now() >= deadline) return reply;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const answerSecret = (operation: string, body: Body) => {
    const value = options.secrets?.[body.SecretId];
    if (operation !== "GetSecretValue" || value === undefined) {
      const payload = Buffer.from(
        JSON.stringify({
          __type: "ResourceNotFoundException",
          message: `Secrets Manager can't find the specified secret (${operation} ${body.SecretId}).`,
        }),
      );
      return { status: 400, headers: { "content-type": "application/x-amz-json-1.1" }, body: payload };
    }
    const payload = Buffer.from(
      JSON.stringify({
        ARN: body.SecretId,
        Name: String(body.SecretId).split(":").pop(),
        SecretString: value,
        VersionId: "00000000-0000-0000-0000-000000000001",
        VersionStages: ["AWSCURRENT"],
        CreatedDate: 1_700_000_000,
      }),
    );
    return { status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: payload };
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const raw = await readBody(req);
      const { service, operation, body } = parseRequest(req, raw.toString("utf8"));
      const principal = principalOf(req.headers.authorization);
      // recorded on arrival, so a call still waiting (an SQS long poll) is seen too
      const recorded = callsOf(service, operation, body).map((c) => {
        const call: AwsCall = { principal, service, operation, ...c, status: 0 };
        calls.push(call);
        return call;
      });
      const reply =
        service === "secretsmanager"
          ? answerSecret(operation, body)
          : service === "sqs" &&
              operation === "ReceiveMessage" &&
              Number(body.WaitTimeSeconds) > 0 &&
              req.headers["x-amz-target"]
            ? await longPoll(req, body)
            : await forward(options.upstream[service], req, raw);
      const errorType = errorTypeOf(reply.status, reply.body);
      for (const call of recorded) Object.assign(call, { status: reply.status, errorType });
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    } catch (error) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ __type: "RecorderError", message: (error as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
