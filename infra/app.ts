/**
 * CDK entry point. Run by a CDK CLI (cdk.json "app": `npx cdk deploy --all`), or directly by
 * `npm run synth [-- -c key=value ...]`, which synthesizes offline into cdk.out/ without any CLI:
 * then the context comes from cdk.json plus the -c overrides, as the CLI would pass it.
 */
import { App } from "aws-cdk-lib";
import { cliContext } from "./cli-context.js";
import { buildTradingSystem } from "./trading-system.js";

const runByCdkCli = process.env.CDK_CONTEXT_JSON !== undefined || process.env.CDK_OUTDIR !== undefined;
const app = runByCdkCli ? new App() : new App(cliContext(process.argv.slice(2)));
const system = buildTradingSystem(app);
app.synth();
if (!runByCdkCli) {
  const stacks = [system.data, system.pipeline, system.llm, system.monitoring]
    .map((s) => s.stackName)
    .join(", ");
  console.log(`Synthesized ${stacks} into ${app.outdir} (cdk-nag AwsSolutions: no unacknowledged finding).`);
}
