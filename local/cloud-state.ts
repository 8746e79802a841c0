/**
 * How other commands find the local cloud that `npm run local` keeps up: it writes its endpoints,
 * table and queue names to a state file (default .local-cloud/state.json, gitignored;
 * LOCAL_CLOUD_STATE_FILE overrides), and a reader trusts the file only after a health probe of
 * both servers, so a file left behind by a killed process is ignored, not obeyed.
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS set in the environment always win over the file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";

export const STATE_FILE_ENV = "LOCAL_CLOUD_STATE_FILE";

const QueueState = z.object({
  id: z.enum(["validation", "risk", "execution"]),
  url: z.string().url(),
  arn: z.string().min(1),
  deadLetterUrl: z.string().url(),
  deadLetterArn: z.string().min(1),
});

export const LocalCloudState = z.object({
  pid: z.number().int().positive(),
  startedAt: z.iso.datetime(),
  dynamodbEndpoint: z.string().url(),
  sqsEndpoint: z.string().url(),
  /** the local public market data (replay), the value for COINBASE_API_BASE_URL */
  marketUrl: z.string().url(),
  /** the environment that points functions at this cloud (endpoints, table names, queue URLs) */
  env: z.record(z.string(), z.string()),
  tables: z.record(z.string(), z.string()),
  queues: z.object({ validation: QueueState, risk: QueueState, execution: QueueState }),
});
export type LocalCloudState = z.infer<typeof LocalCloudState>;

export function stateFilePath(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[STATE_FILE_ENV]?.trim();
  return override ? resolve(override) : join(repoRoot, ".local-cloud", "state.json");
}

/** Written atomically (temp file, then rename), so a reader never sees half a file. */
export function writeCloudState(file: string, state: LocalCloudState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(LocalCloudState.parse(state), null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** Removes the file if it still describes this process's cloud (a newer one may have replaced it). */
export function removeCloudState(file: string, pid = process.pid): void {
  const state = readCloudState(file);
  if (state?.pid === pid) rmSync(file, { force: true });
}

/** The state file's content, or undefined when there is none or it is not a state file. */
export function readCloudState(file: string): LocalCloudState | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = LocalCloudState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when both servers answer like DynamoDB and SQS within `timeoutMs`: an unsigned request is
 * enough (dynalite and local-aws-sqs answer it with a protocol error, a dead port refuses it).
 */
export async function cloudAnswers(
  state: Pick<LocalCloudState, "dynamodbEndpoint" | "sqsEndpoint" | "marketUrl">,
  timeoutMs = 1_000,
): Promise<boolean> {
  const probe = async (url: string, init: RequestInit) => {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.status < 500;
    } catch {
      return false;
    }
  };
  const results = await Promise.all([
    probe(state.dynamodbEndpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.ListTables",
      },
      body: "{}",
    }),
    probe(`${state.sqsEndpoint}/?Action=ListQueues`, { method: "GET" }),
    probe(`${state.marketUrl}/time`, { method: "GET" }),
  ]);
  return results.every(Boolean);
}

export type RunningCloud =
  | { kind: "environment" }
  | { kind: "state-file"; file: string; state: LocalCloudState }
  | { kind: "none"; stale?: string };

/**
 * Which local cloud a command should use: the one the environment names (AWS_ENDPOINT_URL_*),
 * else the one `npm run local` keeps up (its state file, if it answers), else none.
 */
export async function findRunningCloud(
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningCloud> {
  if (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL_SQS) return { kind: "environment" };
  const file = stateFilePath(repoRoot, env);
  const state = readCloudState(file);
  if (!state) return { kind: "none" };
  if (await cloudAnswers(state)) return { kind: "state-file", file, state };
  return { kind: "none", stale: file };
}
