/**
 * CDK entry point. Run by a CDK CLI (cdk.json "app": `npx cdk deploy --all`), or directly by
 * `npm run synth [-- -c key=value ...]`, which synthesizes offline into cdk.out/ without any CLI:
 * then the context comes from cdk.json plus the -c overrides, as the CLI would pass it.
 */
import { runCommand } from "#local/cli.js";
import { CONTEXT_HELP, CONTEXT_OPTIONS, cliContext } from "./cli-context.js";

const USAGE = `usage: npm run synth [-- -c key=value ...]
Synthesizes the four stacks offline into cdk.out/ (cdk-nag AwsSolutions checks included); no AWS
account or CDK CLI needed. npx cdk synth / deploy run the same app with the CDK CLI.
${CONTEXT_HELP}`;

const runByCdkCli = process.env.CDK_CONTEXT_JSON !== undefined || process.env.CDK_OUTDIR !== undefined;

/** the CDK is loaded only to synthesize: --help and a wrong flag answer at once */
async function synthesize(props?: ReturnType<typeof cliContext>) {
  const { App } = await import("aws-cdk-lib");
  const { buildTradingSystem } = await import("./trading-system.js");
  const app = new App(props);
  const system = buildTradingSystem(app);
  app.synth();
  return { app, system };
}

if (runByCdkCli) await synthesize();
else
  await runCommand({ name: "npm run synth", usage: USAGE, options: CONTEXT_OPTIONS }, async ({ values }) => {
    const { app, system } = await synthesize(cliContext(values.context));
    const stacks = [system.data, system.pipeline, system.llm, system.monitoring]
      .map((s) => s.stackName)
      .join(", ");
    console.log(
      `Synthesized ${stacks} into ${app.outdir} (cdk-nag AwsSolutions: no unacknowledged finding).`,
    );
  });
