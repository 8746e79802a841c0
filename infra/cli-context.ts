/**
 * What the CDK CLI does before it runs the app, for runs without it: cdk.json's context, then
 * `-c key=value` / `--context key=value` overrides, and cdk.out/ as the output directory.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { AppProps } from "aws-cdk-lib";
import { REPO_ROOT } from "./constructs/pipeline-function.js";

export function cdkJsonContext(file = path.join(REPO_ROOT, "cdk.json")): Record<string, unknown> {
  const json = JSON.parse(readFileSync(file, "utf8")) as { context?: Record<string, unknown> };
  return { ...(json.context ?? {}) };
}

export function cliContext(argv: readonly string[], outdir = path.join(REPO_ROOT, "cdk.out")): AppProps {
  const context = cdkJsonContext();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg !== "-c" && arg !== "--context") {
      throw new Error(
        `Unknown argument ${JSON.stringify(arg)}: only -c key=value (or --context key=value) is accepted.`,
      );
    }
    const pair = argv[++i];
    const eq = pair?.indexOf("=") ?? -1;
    if (!pair || eq <= 0) throw new Error(`${arg} needs key=value, got ${JSON.stringify(pair)}`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { context, outdir };
}
