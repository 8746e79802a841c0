/** Test-only API keys, generated per run (never real credentials). */
import { generateKeyPairSync, type KeyObject } from "node:crypto";

export const TEST_KEY_NAME =
  "organizations/00000000-0000-0000-0000-000000000000/apiKeys/22222222-2222-2222-2222-222222222222";

export function es256TestKey(name = TEST_KEY_NAME): { name: string; sec1Pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const sec1Pem = privateKey.export({ type: "sec1", format: "pem" }).toString();
  return { name, sec1Pem, publicKey };
}

/** As the CDP key file stores it: newlines escaped as literal "\n". */
export function escapedNewlines(pem: string): string {
  return pem.replace(/\n/g, "\\n");
}
