/**
 * `npm run asset-sizes`: synthesizes the app offline into a temporary directory and prints the
 * unzipped size of every Lambda asset and layer; exits 1 if any function + its layers exceeds
 * Lambda's 250 MB unzipped limit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CONTEXT_HELP, CONTEXT_OPTIONS, cliContext } from "#infra/cli-context.js";
import { formatMegabytes, LAMBDA_UNZIPPED_LIMIT_BYTES, measureStackAssets } from "#local/asset-sizes.js";
import { runCommand } from "#local/cli.js";

const USAGE = `usage: npm run asset-sizes [-- -c key=value ...]
Synthesizes the app offline into a temporary folder and prints the unzipped size of every Lambda
asset and its layers; exits 1 if a function with its layers exceeds Lambda's 250 MB unzipped limit.
${CONTEXT_HELP}`;

await runCommand(
  { name: "npm run asset-sizes", usage: USAGE, options: CONTEXT_OPTIONS },
  async ({ values }) => {
    const context = cliContext(values.context);
    // the CDK is loaded only now: --help and a wrong flag answer at once
    const { App } = await import("aws-cdk-lib");
    const { buildTradingSystem } = await import("#infra/trading-system.js");
    const outdir = mkdtempSync(path.join(tmpdir(), "trading-assets-"));
    try {
      const app = new App({ ...context, outdir });
      const system = buildTradingSystem(app);
      app.synth();
      const stacks = [system.data, system.pipeline, system.llm, system.monitoring];
      const sizes = stacks.flatMap((stack) => measureStackAssets(outdir, stack.artifactId));
      const rows = sizes.map((s) => ({
        function: `${s.stack}/${s.logicalId}`,
        code: formatMegabytes(s.codeBytes),
        layers: s.layers.map((l) => `${l.logicalId} ${formatMegabytes(l.bytes)}`).join(", ") || "-",
        total: formatMegabytes(s.totalBytes),
        verdict: s.withinLimit ? "ok" : "TOO BIG",
      }));
      console.table(rows);
      const tooBig = sizes.filter((s) => !s.withinLimit);
      if (tooBig.length > 0) {
        console.error(
          `${tooBig.length} function(s) exceed ${formatMegabytes(LAMBDA_UNZIPPED_LIMIT_BYTES)} unzipped (code + layers): ` +
            `${tooBig.map((s) => s.logicalId).join(", ")}. Move dependencies to a pruned layer or mark them external.`,
        );
        process.exitCode = 1;
      } else {
        console.log(
          `All ${sizes.length} functions are within ${formatMegabytes(LAMBDA_UNZIPPED_LIMIT_BYTES)} unzipped.`,
        );
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  },
);
