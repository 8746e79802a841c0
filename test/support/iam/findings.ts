/**
 * What the recorded calls say about the deployed roles and environments, as lines a reader can act
 * on ("signal-bridge: dynamodb:Query on table trading-portfolio ... → add ... in pipeline-stack.ts").
 */
import type { AwsCall, AwsResource } from "./aws-call-recorder.js";
import { isUnresolved } from "./cloudformation.js";
import { evaluate } from "./iam-policy.js";
import type { LocalDeployment, PrincipalName } from "./local-deployment.js";

const EVENT_SOURCE = "event-source:";

/** The function a call is held to: the function itself, or the event source mapping polling for it. */
export function ownerOf(call: AwsCall): { name: string; viaEventSource: boolean } {
  return call.principal.startsWith(EVENT_SOURCE)
    ? { name: call.principal.slice(EVENT_SOURCE.length), viaEventSource: true }
    : { name: call.principal, viaEventSource: false };
}

export function describeResource(resource: AwsResource): string {
  switch (resource.kind) {
    case "table":
      return resource.index ? `index ${resource.name}/${resource.index}` : `table ${resource.name}`;
    case "queue":
      return `queue ${resource.name}`;
    case "secret":
      return `secret ${resource.id}`;
  }
}

/** Distinct (owner, action, resource) triples, so each finding is reported once. */
function distinct(calls: readonly AwsCall[]): AwsCall[] {
  const seen = new Map<string, AwsCall>();
  for (const c of calls) {
    const key = `${c.principal} ${c.action} ${JSON.stringify(c.resource)}`;
    if (!seen.has(key)) seen.set(key, c);
  }
  return [...seen.values()];
}

/** Calls no role can be held to (signed with an unknown key): nothing the deployment would run. */
export function unattributedCalls(calls: readonly AwsCall[], local: LocalDeployment): string[] {
  return distinct(calls)
    .filter((c) => !(ownerOf(c).name in local.principals))
    .map((c) => `${c.principal}: ${c.action} on ${describeResource(c.resource)}`);
}

/** Every recorded call its owner's synthesized role would not allow. */
export function ungrantedCalls(calls: readonly AwsCall[], local: LocalDeployment): string[] {
  const out: string[] = [];
  for (const call of distinct(calls)) {
    const owner = ownerOf(call);
    const principal = local.principals[owner.name as PrincipalName];
    if (!principal) continue;
    const arn = local.arnOf(call.resource);
    const verdict = evaluate(principal.policy.statements, call.action, arn);
    if (verdict.allowed) continue;
    const who = owner.viaEventSource ? `${owner.name} (its SQS event source)` : owner.name;
    out.push(
      `${who}: ${call.action} on ${arn} is not allowed by role ${principal.policy.stack}/${principal.policy.roleLogicalId} (${verdict.reason})`,
    );
  }
  return out.sort();
}

/** The values of an environment that can name a resource (resolved ones only). */
function namesIn(env: Record<string, string>): Set<string> {
  const out = new Set<string>();
  for (const value of Object.values(env)) {
    if (isUnresolved(value)) continue;
    out.add(value);
  }
  return out;
}

/**
 * Every table, queue or secret a function's own code used that no variable of its synthesized
 * environment names: a default name, a hard-coded name, or a variable the template does not set.
 * (A queue an event source mapping polls is named by the mapping, not the environment.)
 */
export function namesNotFromEnvironment(calls: readonly AwsCall[], local: LocalDeployment): string[] {
  const out = new Set<string>();
  for (const call of distinct(calls)) {
    const owner = ownerOf(call);
    const principal = local.principals[owner.name as PrincipalName];
    if (!principal || owner.viaEventSource) continue;
    const names = namesIn(principal.env);
    const used =
      call.resource.kind === "table"
        ? call.resource.name
        : call.resource.kind === "queue"
          ? call.resource.url
          : call.resource.id;
    if (!names.has(used)) {
      out.add(
        `${owner.name}: uses ${describeResource(call.resource)} (${call.action}), which no variable of its environment in the template names`,
      );
    }
  }
  return [...out].sort();
}

/** The tables and queues (not indexes, actions or secrets) a role grants anything on. */
export function grantedDataResources(local: LocalDeployment, name: PrincipalName): Set<string> {
  const out = new Set<string>();
  for (const s of local.principals[name].policy.statements) {
    if (s.Effect !== "Allow") continue;
    const actions = [s.Action ?? []].flat();
    if (!actions.some((a) => a.startsWith("dynamodb:") || a.startsWith("sqs:"))) continue;
    for (const r of [s.Resource ?? []].flat()) {
      if (isUnresolved(r) || r === "*") continue;
      out.add(r.replace(/\/index\/[^/]+$/, ""));
    }
  }
  return out;
}

/**
 * Tables and queues a role grants access to that its function never touched in the run, minus
 * `expected` (principal -> resource ARN -> why the grant stays although this run does not use it).
 */
export function unusedGrants(
  calls: readonly AwsCall[],
  local: LocalDeployment,
  expected: Partial<Record<PrincipalName, Record<string, string>>>,
): string[] {
  const out: string[] = [];
  for (const name of Object.keys(local.principals) as PrincipalName[]) {
    const used = new Set(
      calls
        .filter((c) => ownerOf(c).name === name)
        .map((c) => local.arnOf(c.resource).replace(/\/index\/[^/]+$/, "")),
    );
    for (const resource of grantedDataResources(local, name)) {
      if (used.has(resource) || expected[name]?.[resource]) continue;
      out.push(`${name}: its role grants access to ${resource}, which it never used`);
    }
  }
  return out.sort();
}

const WRITE_ACTIONS = new Set([
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
]);

/**
 * Tables a role may write that its function only read in the run, minus `expected` (principal ->
 * table ARN -> why the write access stays): read access would do for them.
 */
export function unusedWriteAccess(
  calls: readonly AwsCall[],
  local: LocalDeployment,
  expected: Partial<Record<PrincipalName, Record<string, string>>>,
): string[] {
  const out: string[] = [];
  for (const name of Object.keys(local.principals) as PrincipalName[]) {
    const written = new Set(
      calls
        .filter((c) => ownerOf(c).name === name && WRITE_ACTIONS.has(c.action))
        .map((c) => local.arnOf(c.resource)),
    );
    const writable = new Set<string>();
    for (const s of local.principals[name].policy.statements) {
      if (s.Effect !== "Allow" || ![s.Action ?? []].flat().some((a) => WRITE_ACTIONS.has(a))) continue;
      for (const r of [s.Resource ?? []].flat())
        if (!isUnresolved(r) && !r.includes("/index/")) writable.add(r);
    }
    for (const table of writable) {
      if (written.has(table) || expected[name]?.[table]) continue;
      out.push(`${name}: its role may write ${table}, which it only read (grant "read")`);
    }
  }
  return out.sort();
}
