/**
 * The two implementations of the store ports every store contract test runs against: DynamoDB on
 * a private set of the run's local-cloud tables, and memory. One contract pins both.
 */
import { createDocumentClient, createStores } from "#store/dynamo/index.js";
import { createMemoryStores } from "#store/memory/index.js";
import type { Stores } from "#store/ports.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

export interface StoreImplementation {
  name: string;
  /** a fresh, empty set of stores; `label` names the local-cloud tables */
  fresh(label: string): Promise<Stores>;
}

export const STORE_IMPLEMENTATIONS: readonly StoreImplementation[] = [
  {
    name: "DynamoDB on the local cloud",
    fresh: async (label) => {
      await isolatedCloud(label);
      return createStores(createDocumentClient());
    },
  },
  { name: "memory", fresh: async () => createMemoryStores() },
];
