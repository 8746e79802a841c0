/**
 * `npm run local`: starts the local cloud (DynamoDB via dynalite, SQS via local-aws-sqs, every table
 * and queue) and a local Coinbase public market data server replaying data/replay, prints their
 * endpoints and keeps them up until Ctrl-C. `npm run invoke` and `npm start` find it through
 * .local-cloud/state.json (see local/cloud-state.ts).
 *
 *   npm run local -- [--candles data/replay]
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeLocalCloud, LocalCloudAlreadyRunning, serveLocalCloud } from "#local/cloud-server.js";
import { removeCloudState, stateFilePath } from "#local/cloud-state.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `usage: npm run local -- [--candles <folder of <BASE>-<QUOTE>_1h.csv>] [--debug]   (default data/replay)`;

let candlesDir: string;
let debug = false;
try {
  const { values } = parseArgs({
    options: {
      candles: { type: "string", default: "data/replay" },
      help: { type: "boolean", short: "h" },
      debug: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  candlesDir = values.candles;
  debug = values.debug;
} catch (error) {
  process.stderr.write(`npm run local: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

const stateFile = stateFilePath(repoRoot);
let served: Awaited<ReturnType<typeof serveLocalCloud>>;
try {
  served = await serveLocalCloud({ candlesDir, stateFile });
} catch (error) {
  process.stderr.write(`npm run local: ${(error as Error).message}\n`);
  if (!(error instanceof LocalCloudAlreadyRunning) && debug) console.error(error);
  process.exit(2);
}
process.stdout.write(`${describeLocalCloud(served.state, served.market, stateFile).join("\n")}\n`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the local cloud\n`);
  removeCloudState(stateFile);
  await served.stop();
  process.stdout.write("Local cloud stopped.\n");
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
