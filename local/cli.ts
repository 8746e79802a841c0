/**
 * What every command line of the project (bin/*, `npm run synth`) does the same way:
 *
 * - `--help` (or `-h`) prints the command's usage on stdout and exits 0;
 * - the arguments are parsed strictly with node:util parseArgs: an unknown flag, a missing value or
 *   a stray argument is a user mistake;
 * - a user mistake (a UsageError, or one of the project's errors that name a wrong input: see
 *   USER_MISTAKES) is one line on stderr, `<command>: <what was wrong and what to do>`, exit code 2;
 * - anything else is one line too, `<command> failed: <message>`, exit code 1;
 * - the stack trace is printed only with `--debug`.
 *
 * It imports nothing of the project, so `--help` and a refusal stay fast.
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

/** A wrong input from the user: the message says what was wrong, with which input, and what to do. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * The project's errors that always mean a wrong input (a flag, a file, a setting, a window), by
 * class name so this module imports none of them; test/cli/cli-module.test.ts holds the names to
 * the classes.
 */
export const USER_MISTAKES: ReadonlySet<string> = new Set([
  "UsageError",
  "ConfigError", // functions/shared/config.ts: an environment variable
  "SettingsError", // backtest/settings.ts: the environment, --config or a shorthand flag
  "WindowError", // backtest/windows.ts: --from/--to
  "SweepError", // backtest/sweep-settings.ts: the sweep's grid and windows
  "LocalRunRefused", // local/trading-mode.ts: npm start's --live checks
  "CoinbaseKeyError", // functions/shared/coinbase/auth.ts: the CDP key file
  "CandleFileError", // functions/shared/market-data/replay.ts: a candle folder, file or row
  "ModelLoadError", // functions/shared/model/runtime.ts: the model file or its card
  "PythonSetupError", // models/training/python-check.ts: packages missing for npm run train
  "DeploymentConfigError", // infra/config.ts: a CDK context value (cdk.json or -c key=value)
  "ImplausibleEventTimeError", // functions/shared/runtime/lambda-events.ts: an invoked event's time
]);

export interface Command<O extends ParseArgsOptionsConfig> {
  /** how the user runs it, as printed in messages: "npm run backtest" */
  readonly name: string;
  /** printed by --help, on stdout */
  readonly usage: string;
  /** the command's own options; --help, -h and --debug are added */
  readonly options: O;
  /** whether it takes positional arguments (invoke's function name); default false */
  readonly positionals?: boolean;
}

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} as const satisfies ParseArgsOptionsConfig;

type OptionValue<D> = D extends { type: "boolean" }
  ? D extends { multiple: true }
    ? boolean[]
    : boolean
  : D extends { multiple: true }
    ? string[]
    : string;

/** an option's value: always there when it has a default */
export type OptionValues<O extends ParseArgsOptionsConfig> = {
  -readonly [K in keyof O]: O[K] extends { default: unknown }
    ? OptionValue<O[K]>
    : OptionValue<O[K]> | undefined;
} & { help?: boolean; debug?: boolean };

export interface CommandLine<O extends ParseArgsOptionsConfig> {
  values: OptionValues<O>;
  positionals: string[];
}

/** How to get the usage, for the end of a message: "see npm run bench -- --help". */
export function helpHint(name: string): string {
  return name.startsWith("npm ") ? `see ${name} -- --help` : `see ${name} --help`;
}

/** The parsed command line; a mistake in it is a UsageError naming the flag and the fix. */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(
  command: Command<O>,
  argv: readonly string[],
): CommandLine<O> {
  const options = { ...command.options, ...COMMON_OPTIONS };
  try {
    const parsed = parseArgs({
      args: [...argv],
      options,
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    return parsed as unknown as CommandLine<O>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
      throw new UsageError(
        `${argumentProblem(error as Error, Object.keys(options))}; ${helpHint(command.name)}`,
      );
    throw error;
  }
}

/** parseArgs' complaint in the project's words, with the nearest known flag for a typo. */
function argumentProblem(error: Error, known: readonly string[]): string {
  const code = (error as { code?: string }).code;
  const quoted = error.message.match(/'([^']*)'/)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = quoted.split("=")[0]!;
    const near = nearest(flag.replace(/^-+/, ""), known);
    return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ""}`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return `unexpected argument ${JSON.stringify(quoted)}: this command takes only --options`;
  if (/argument missing/.test(error.message))
    return `${quoted.match(/--[\w-]+/)?.[0] ?? quoted.split(" ")[0]} needs a value`;
  if (/does not take an argument/.test(error.message)) return `${quoted} is a switch and takes no value`;
  return error.message.replace(/\s+/g, " ").trim();
}

/** The known option closest to a typo (at most 2 edits, or a prefix), if any. */
function nearest(typo: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = name.startsWith(typo) || typo.startsWith(name) ? 1 : editDistance(typo, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Whether an error is a wrong input of the user's (exit code 2) rather than a failure (exit 1). */
export function isUserMistake(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (USER_MISTAKES.has(error.name)) return true;
  // a command that parses its own arguments with parseArgs (the sweep)
  if (String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) return true;
  // a path the user gave that is not there (the message names it)
  const code = (error as NodeJS.ErrnoException).code;
  return (
    (code === "ENOENT" || code === "ENOTDIR") && typeof (error as NodeJS.ErrnoException).path === "string"
  );
}

/** The one line for an error: its message with line breaks folded. */
export function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error).replace(/\s+/g, " ").trim();
  const errno = error as NodeJS.ErrnoException;
  if (String(errno.code).startsWith("ERR_PARSE_ARGS")) return argumentProblem(error, []);
  if ((errno.code === "ENOENT" || errno.code === "ENOTDIR") && errno.path)
    return `${errno.path}: no such ${errno.syscall === "scandir" ? "folder" : "file or folder"}; check the path`;
  return error.message.replace(/\s*\n\s*/g, " ").trim();
}

export interface Reporter {
  write(text: string): unknown;
}

/**
 * Reports a failed command on `err` and returns its exit code: 2 for a user mistake, 1 otherwise.
 * The stack trace only with `debug`.
 */
export function reportFailure(
  name: string,
  error: unknown,
  debug: boolean,
  err: Reporter = process.stderr,
): 2 | 1 {
  const mistake = isUserMistake(error);
  if (mistake) err.write(`${name}: ${oneLine(error)}\n`);
  else
    err.write(
      `${name} failed: ${oneLine(error)}${debug ? "" : " (run again with --debug for the stack trace)"}\n`,
    );
  if (debug && error instanceof Error && error.stack) err.write(`${error.stack}\n`);
  return mistake ? 2 : 1;
}

/**
 * Runs a command: parses its arguments, answers --help, runs `main`, and turns a failure into one
 * line and an exit code (process.exitCode, so whatever main started can still finish cleanly).
 */
export async function runCommand<O extends ParseArgsOptionsConfig>(
  command: Command<O>,
  main: (line: CommandLine<O>) => Promise<void> | void,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  await reportingFailures(command.name, argv, async () => {
    const line = parseCommandLine(command, argv);
    if (line.values.help) {
      process.stdout.write(`${command.usage.trimEnd()}\n`);
      return;
    }
    await main(line);
  });
}

/**
 * Runs `work` for a command that parses its own arguments, reporting a failure as runCommand does
 * (one line, exit code 2 or 1, the stack with --debug among `argv`).
 */
export async function reportingFailures(
  name: string,
  argv: readonly string[],
  work: () => Promise<void> | void,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    process.exitCode = reportFailure(name, error, argv.includes("--debug"));
  }
}

/**
 * For a command written as top-level code: a failure that escapes it is reported as runCommand
 * reports one (one line, exit code 2 or 1, the stack only with --debug among `argv`).
 */
export function reportEscapedFailures(name: string, argv: readonly string[] = process.argv.slice(2)): void {
  const report = (error: unknown) => {
    process.exitCode = reportFailure(name, error, argv.includes("--debug"));
  };
  process.on("uncaughtException", report);
  process.on("unhandledRejection", report);
}

/** The help line every usage ends with. */
export const COMMON_HELP = "  --help, -h   this text      --debug   print the stack trace of a failure";
