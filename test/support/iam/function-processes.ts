/**
 * Each deployed function in a Node process of its own, running its bundle with exactly the
 * environment given (the synthesized one, resolved against the local cloud): no module, client,
 * cache or variable is shared between functions, as between Lambda functions in AWS.
 */
import { type ChildProcess, fork } from "node:child_process";
import * as path from "node:path";
import type { RuntimeMessage, SerializedError } from "./lambda-runtime.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

/** What a process needs from the machine to start at all (never AWS settings). */
function machineEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "TMP", "TEMP", "SYSTEMROOT"]) {
    const value = process.env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export class FunctionInvocationError extends Error {
  override readonly name = "FunctionInvocationError";
  constructor(
    readonly functionName: string,
    readonly failure: SerializedError,
    logs: string,
  ) {
    super(`${functionName} failed: ${failure.name}: ${failure.message}\n--- its last log lines ---\n${logs}`);
  }
}

interface Started {
  child: ChildProcess;
  logs(): string;
  exited: Promise<number | null>;
}

function start(entry: string, args: string[], env: Record<string, string>): Started {
  const child = fork(entry, args, {
    cwd: REPO_ROOT,
    env: { ...machineEnv(), ...env },
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logs: () => output.split("\n").slice(-30).join("\n"), exited };
}

async function stopChild(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill("SIGTERM");
  const timer = setTimeout(() => started.child.kill("SIGKILL"), 2_000);
  await started.exited;
  clearTimeout(timer);
}

export interface LambdaProcess {
  readonly name: string;
  invoke(event: unknown): Promise<unknown>;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts a Lambda handler module in its own process and waits for its init to finish. */
export async function startLambdaProcess(options: {
  name: string;
  /** the bundled lambda-runtime.ts */
  runtime: string;
  /** the bundled handler */
  handlerModule: string;
  timeoutSeconds: number;
  env: Record<string, string>;
}): Promise<LambdaProcess> {
  const started = start(
    options.runtime,
    [options.handlerModule, options.name, String(options.timeoutSeconds)],
    options.env,
  );
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    started.child.on("message", (message: RuntimeMessage) => {
      if (message.type === "ready") resolve();
      else if (message.type === "init-error")
        reject(new FunctionInvocationError(options.name, message.error, started.logs()));
      else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.result);
        else waiter?.reject(new FunctionInvocationError(options.name, message.error, started.logs()));
      }
    });
    void started.exited.then((code) => {
      const error = new FunctionInvocationError(
        options.name,
        { name: "ProcessExited", message: `the process exited with code ${code}` },
        started.logs(),
      );
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });
  await ready;
  return {
    name: options.name,
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        started.child.send({ id, event });
      });
    },
    logs: started.logs,
    stop: () => stopChild(started),
  };
}

export interface WorkerProcess {
  readonly name: string;
  logs(): string;
  /** undefined while it runs */
  exitCode(): number | null | undefined;
  stop(): Promise<void>;
}

/** Starts a long-running worker bundle (the ECS validator) as its container would run it. */
export function startWorkerProcess(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
}): WorkerProcess {
  const started = start(options.entry, [], options.env);
  let code: number | null | undefined;
  void started.exited.then((c) => {
    code = c;
  });
  return { name: options.name, logs: started.logs, exitCode: () => code, stop: () => stopChild(started) };
}
