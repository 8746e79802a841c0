/**
 * IAM's identity-policy evaluation, for the statements a synthesized role carries: an explicit
 * Deny wins, otherwise some Allow must match the action and the resource. Actions and resources
 * match with IAM's wildcards (`*`, `?`; actions case-insensitively). A statement with a Condition
 * is never counted as granting (the check cannot know the request context), so a grant that only
 * holds under a condition shows up as missing rather than passing unseen.
 */
import { type CfnTemplate, type CfnValue, type Deployment, resolveIntrinsics } from "./cloudformation.js";

export interface PolicyStatement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
}

export interface RolePolicy {
  stack: string;
  roleLogicalId: string;
  /** every statement of the policies attached to the role, intrinsics resolved */
  statements: PolicyStatement[];
  /** managed policies cannot be evaluated here; none of the app's roles should have any */
  managedPolicyArns: string[];
}

const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function wildcard(pattern: string, flags = ""): RegExp {
  const body = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, flags);
}

const matchesAction = (patterns: string[], action: string) =>
  patterns.some((p) => wildcard(p, "i").test(action));
const matchesResource = (patterns: string[], resource: string) =>
  patterns.some((p) => wildcard(p).test(resource));

function statementMatches(s: PolicyStatement, action: string, resource: string): boolean {
  const actionOk =
    s.Action !== undefined
      ? matchesAction(asList(s.Action), action)
      : !matchesAction(asList(s.NotAction), action);
  const resourceOk =
    s.Resource !== undefined
      ? matchesResource(asList(s.Resource), resource)
      : !matchesResource(asList(s.NotResource), resource);
  return actionOk && resourceOk;
}

export type Verdict = { allowed: true } | { allowed: false; reason: "explicit-deny" | "no-allow" };

export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): Verdict {
  if (statements.some((s) => s.Effect === "Deny" && statementMatches(s, action, resource)))
    return { allowed: false, reason: "explicit-deny" };
  const allowed = statements.some(
    (s) => s.Effect === "Allow" && s.Condition === undefined && statementMatches(s, action, resource),
  );
  return allowed ? { allowed: true } : { allowed: false, reason: "no-allow" };
}

/** The statements of every policy attached to `roleLogicalId` in `stack` (inline and AWS::IAM::Policy). */
export function rolePolicy(deployment: Deployment, stack: string, roleLogicalId: string): RolePolicy {
  const template: CfnTemplate = deployment.templates[stack];
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== "AWS::IAM::Role")
    throw new Error(`${stack}/${roleLogicalId} is not an AWS::IAM::Role (it is ${role?.Type ?? "missing"})`);
  const documents: CfnValue[] = asList(role.Properties?.Policies).map((p: CfnValue) => p.PolicyDocument);
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::IAM::Policy") continue;
    const roles = asList(resource.Properties?.Roles) as CfnValue[];
    if (roles.some((r) => r?.Ref === roleLogicalId)) documents.push(resource.Properties.PolicyDocument);
  }
  const statements = documents.flatMap(
    (doc) => asList(resolveIntrinsics(deployment, stack, doc).Statement) as PolicyStatement[],
  );
  const managedPolicyArns = asList(
    resolveIntrinsics(deployment, stack, role.Properties?.ManagedPolicyArns),
  ) as string[];
  return { stack, roleLogicalId, statements, managedPolicyArns };
}
