import type { TestProject } from "vitest/node";
import { type LocalCloudEndpoints, startLocalCloud } from "#local/cloud.js";

declare module "vitest" {
  export interface ProvidedContext {
    localCloud: LocalCloudEndpoints;
  }
}

/** One local cloud (dynalite + local-aws-sqs on 127.0.0.1) for the whole run; test files provision their own tables on it. */
export default async function setup(project: TestProject) {
  const cloud = await startLocalCloud({ prefix: "global", applyToProcessEnv: false });
  project.provide("localCloud", { dynamodbEndpoint: cloud.dynamodbEndpoint, sqsEndpoint: cloud.sqsEndpoint });
  return async () => {
    await cloud.stop();
  };
}
