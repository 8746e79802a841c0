/** local/cli.ts: argument mistakes in the project's words, and which errors count as the user's. */
import { describe, expect, it } from "vitest";
import { SettingsError } from "#backtest/settings.js";
import { SweepError } from "#backtest/sweep-settings.js";
import { WindowError } from "#backtest/windows.js";
import { CoinbaseKeyError } from "#coinbase/auth.js";
import { ConfigError } from "#config";
import { DeploymentConfigError } from "#infra/config.js";
import {
  isUserMistake,
  oneLine,
  parseCommandLine,
  reportFailure,
  USER_MISTAKES,
  UsageError,
} from "#local/cli.js";
import { LocalRunRefused } from "#local/trading-mode.js";
import { CandleFileError } from "#market-data/replay.js";
import { ModelLoadError } from "#model/runtime.js";
import { ImplausibleEventTimeError } from "#runtime/lambda-events.js";
import { PythonSetupError } from "#training/python-check.js";

const command = {
  name: "npm run demo",
  usage: "usage: npm run demo",
  options: { hours: { type: "string" }, verbose: { type: "boolean" } },
} as const;

function problem(argv: string[]): string {
  try {
    parseCommandLine(command, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  return "(accepted)";
}

describe("the shared command line", () => {
  it("names the flag, the nearest known one and where the usage is", () => {
    expect(problem(["--hour", "3"])).toBe(
      "unknown option --hour (did you mean --hours?); see npm run demo -- --help",
    );
    expect(problem(["--zzz"])).toBe("unknown option --zzz; see npm run demo -- --help");
    expect(problem(["--hours"])).toBe("--hours needs a value; see npm run demo -- --help");
    expect(problem(["--verbose=yes"])).toBe(
      "--verbose is a switch and takes no value; see npm run demo -- --help",
    );
    expect(problem(["stray"])).toBe(
      'unexpected argument "stray": this command takes only --options; see npm run demo -- --help',
    );
    expect(parseCommandLine(command, ["--hours", "3", "--debug"]).values).toEqual({
      hours: "3",
      debug: true,
    });
  });

  it("counts the project's wrong-input errors as the user's, by their real class names", () => {
    const classes = [
      UsageError,
      ConfigError,
      SettingsError,
      WindowError,
      SweepError,
      LocalRunRefused,
      CoinbaseKeyError,
      CandleFileError,
      ModelLoadError,
      PythonSetupError,
      DeploymentConfigError,
      ImplausibleEventTimeError,
    ];
    for (const Class of classes) expect(isUserMistake(new Class("x")), Class.name).toBe(true);
    expect([...USER_MISTAKES].sort()).toEqual(classes.map((c) => new c("x").name).sort());
    expect(isUserMistake(new Error("x"))).toBe(false);
    expect(isUserMistake(new TypeError("x"))).toBe(false);
  });

  it("a path that is not there is the user's; its line names the path", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'out/x.json'"), {
      code: "ENOENT",
      syscall: "open",
      path: "out/x.json",
    });
    expect(isUserMistake(enoent)).toBe(true);
    expect(oneLine(enoent)).toBe("out/x.json: no such file or folder; check the path");
  });

  it("reports one line, exit code 2 for a mistake and 1 otherwise, the stack only with debug", () => {
    const written: string[] = [];
    const err = { write: (text: string) => written.push(text) };
    expect(
      reportFailure("npm run demo", new WindowError("the window is empty.\nGive --from."), false, err),
    ).toBe(2);
    expect(written).toEqual(["npm run demo: the window is empty. Give --from.\n"]);
    written.length = 0;
    expect(reportFailure("npm run demo", new Error("disk full"), false, err)).toBe(1);
    expect(written).toEqual([
      "npm run demo failed: disk full (run again with --debug for the stack trace)\n",
    ]);
    written.length = 0;
    reportFailure("npm run demo", new Error("disk full"), true, err);
    expect(written[0]).toBe("npm run demo failed: disk full\n");
    expect(written[1]).toMatch(/^Error: disk full\n\s+at /);
  });
});
