/**
 * `npm run invoke -- <function> --event events/<file>.json`: runs a Lambda handler locally
 * against the local cloud and prints its result (see local/invoke.ts). --help, --debug and the
 * one-line failures as every command (local/cli.ts).
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { reportingFailures } from "#local/cli.js";
import {
  FUNCTION_TIMEOUT_SECONDS,
  handlerModuleFor,
  INVOKE_COMMAND,
  invokeLocally,
  parseInvokeArgs,
  readEventFile,
  restampScheduledEvent,
} from "#local/invoke.js";
import { prepareInvokeCloud, READS_CANDLES } from "#local/invoke-cloud.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);

await reportingFailures(INVOKE_COMMAND.name, argv, async () => {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(INVOKE_COMMAND.usage);
    return;
  }
  const args = parseInvokeArgs(argv);
  const read = readEventFile(args.eventFile);
  const { event, note } = args.keepEventTime ? { event: read } : restampScheduledEvent(read, new Date());
  if (note) console.error(`${args.eventFile}: ${note}`);
  const cloud = await prepareInvokeCloud({
    repoRoot,
    candlesDir: path.join(repoRoot, "data", "replay"),
    liveCandles: args.liveCandles ?? false,
    env: process.env,
    seedCandles: READS_CANDLES.has(args.functionName),
  });
  const { result, durationMs } = await invokeLocally({
    functionName: args.functionName,
    event,
    handlerModule: handlerModuleFor(args.functionName, repoRoot),
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS[args.functionName],
  }).finally(() => cloud.stop());
  console.log(JSON.stringify(result ?? null, null, 2));
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  console.error(`${args.functionName} returned in ${durationMs} ms on ${cloud.description}.`);
  if (Array.isArray(failures) && failures.length > 0) {
    console.error(`${failures.length} record(s) failed and would be retried by SQS.`);
    process.exitCode = 1;
  }
});
