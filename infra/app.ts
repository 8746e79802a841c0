/** CDK entry point (cdk.json "app"): `npm run synth`, `npx cdk deploy --all`. */
import { App } from "aws-cdk-lib";
import { buildTradingSystem } from "./trading-system.js";

const app = new App();
buildTradingSystem(app);
app.synth();
