/** `npm start -- <args>` as npm runs it (tsx on bin/run-local.ts), as a child process with only the environment given. */
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "#test/support/paths.js";

export interface RunLocalResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runLocalChild(args: string[], env: Record<string, string>): Promise<RunLocalResult> {
  const base: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "SystemRoot"])
    if (process.env[name]) base[name] = process.env[name]!;
  // never a cloud some `npm run local` left running: its state file, if any, is not where this points
  base.LOCAL_CLOUD_STATE_FILE = join(tmpdir(), `run-local-child-${process.pid}-no-cloud.json`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bin/run-local.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}
