import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { provisionResources } from "#local/cloud.js";

/**
 * Provisions a private set of tables and queues on the run's local cloud and points process.env
 * (and so every SDK client created afterwards) at them.
 */
export async function isolatedCloud(label: string) {
  const endpoints = inject("localCloud");
  const prefix = `${label}-${randomUUID().slice(0, 8)}`;
  const resources = await provisionResources(endpoints, prefix);
  Object.assign(process.env, resources.env);
  return { ...endpoints, ...resources, prefix };
}
