/**
 * Runs a command of the project as the user does (node + tsx, from the repository root) and
 * collects what it printed, for the tests of test/cli/.
 */
import { spawn } from "node:child_process";
import { REPO_ROOT } from "#test/support/paths.js";

export interface CommandRun {
  /** the exit code; null when a signal ended it (a native abort is code 134 from the shell, SIGABRT here) */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** the entry file of each command the README names */
export const COMMANDS = {
  "npm start": "bin/run-local.ts",
  "npm run backtest": "bin/backtest.ts",
  "npm run evaluate": "bin/evaluate.ts",
  "npm run train": "bin/train.ts",
  "npm run bench": "bin/bench.ts",
  "npm run invoke": "bin/invoke.ts",
  "npm run asset-sizes": "bin/asset-sizes.ts",
  "npm run synth": "infra/app.ts",
} as const;
export type CommandName = keyof typeof COMMANDS;

/** a line of a JavaScript stack trace */
export const STACK_LINE = /^\s+at .+(\(|:\d+)/m;

export function runCli(
  command: CommandName,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 150_000,
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", COMMANDS[command], ...args], {
      cwd: REPO_ROOT,
      // a run never reaches Coinbase, whatever the caller's environment says
      env: { ...process.env, TRADING_MODE: "", COINBASE_API_BASE_URL: "http://127.0.0.1:9", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The lines of stderr the command itself wrote (runtime warnings of other libraries left out). */
export function commandLines(command: CommandName, run: CommandRun): string[] {
  return run.stderr.split("\n").filter((line) => line.startsWith(command));
}
