/** Every command answers --help (and -h) with its usage on stdout, exit code 0, and does nothing else. */
import { describe, expect, it } from "vitest";
import { COMMANDS, type CommandName, runCli } from "./support/run-command.js";

const names = Object.keys(COMMANDS) as CommandName[];

describe.concurrent("--help", () => {
  it.each(names)(
    "%s -- --help prints its usage and exits 0",
    async (command) => {
      const run = await runCli(command, ["--help"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.startsWith(`usage: ${command}`), run.stdout).toBe(true);
      expect(run.stdout).toContain("--debug");
      expect(run.stderr).not.toMatch(/^npm /m);
    },
    120_000,
  );

  it("-h is --help, wherever it stands", async () => {
    const run = await runCli("npm run invoke", ["portfolio", "-h"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run invoke -- <function> --event/);
  }, 120_000);
});
