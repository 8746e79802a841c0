/**
 * What CloudFormation would resolve a synthesized template's intrinsics to, for a deployment whose
 * physical resources we choose: the local cloud's tables and queues (and a local secret). Only the
 * intrinsics the app's templates use are supported; anything else throws with its JSON, so a new
 * construct that the resolver cannot follow fails the test instead of being skipped.
 *
 * An attribute of a resource that was not deployed locally (a log group's ARN, a role's ARN)
 * resolves to `<unresolved:Stack/LogicalId.Attribute>`: a string no real ARN, name or URL equals,
 * so it can never grant or name anything by accident.
 */

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is walked by shape
export type CfnValue = any;

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: CfnValue }>;
  Outputs?: Record<string, { Value: CfnValue; Export?: { Name: CfnValue } }>;
}

/** Physical values of one deployed resource: what `Ref` and `Fn::GetAtt` return. */
export interface PhysicalResource {
  ref: string;
  attributes?: Record<string, string>;
}

export interface Deployment {
  /** the synthesized templates by stack name */
  templates: Record<string, CfnTemplate>;
  /** stack name -> logical id -> what it was deployed as */
  physical: Record<string, Record<string, PhysicalResource>>;
  region: string;
  account: string;
}

export function unresolved(stack: string, logicalId: string, attribute = "Ref"): string {
  return `<unresolved:${stack}/${logicalId}.${attribute}>`;
}

export function isUnresolved(value: string): boolean {
  return value.includes("<unresolved:");
}

/** Resolves `value` as CloudFormation would inside `stack`. */
export function resolveIntrinsics(deployment: Deployment, stack: string, value: CfnValue): CfnValue {
  const recurse = (v: CfnValue): CfnValue => resolveIntrinsics(deployment, stack, v);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(recurse);
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === "Ref" || keys[0].startsWith("Fn::"))) {
    const [fn] = keys;
    const arg = value[fn];
    switch (fn) {
      case "Ref":
        return refOf(deployment, stack, arg);
      case "Fn::GetAtt": {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(".");
        return attributeOf(deployment, stack, logicalId, attribute);
      }
      case "Fn::Join": {
        const [separator, parts] = arg;
        return (recurse(parts) as string[]).join(separator);
      }
      case "Fn::Select": {
        const [index, list] = recurse(arg);
        return list[Number(index)];
      }
      case "Fn::Split": {
        const [separator, source] = recurse(arg);
        return String(source).split(separator);
      }
      case "Fn::ImportValue":
        return importValue(deployment, recurse(arg));
      case "Fn::Sub": {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const resolvedVars = recurse(vars) as Record<string, string>;
        return String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in resolvedVars) return resolvedVars[name];
          const [logicalId, attribute] = name.split(".");
          return attribute
            ? attributeOf(deployment, stack, logicalId, attribute)
            : refOf(deployment, stack, logicalId);
        });
      }
      default:
        throw new Error(`The IAM check cannot resolve ${fn} in stack ${stack}: ${JSON.stringify(value)}`);
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recurse(v)]));
}

function refOf(deployment: Deployment, stack: string, name: string): string {
  switch (name) {
    case "AWS::Region":
      return deployment.region;
    case "AWS::AccountId":
      return deployment.account;
    case "AWS::Partition":
      return "aws";
    case "AWS::URLSuffix":
      return "amazonaws.com";
    case "AWS::StackName":
      return stack;
  }
  return deployment.physical[stack]?.[name]?.ref ?? unresolved(stack, name);
}

function attributeOf(deployment: Deployment, stack: string, logicalId: string, attribute: string): string {
  return (
    deployment.physical[stack]?.[logicalId]?.attributes?.[attribute] ??
    unresolved(stack, logicalId, attribute)
  );
}

function importValue(deployment: Deployment, exportName: string): CfnValue {
  for (const [stack, template] of Object.entries(deployment.templates)) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (output.Export && resolveIntrinsics(deployment, stack, output.Export.Name) === exportName) {
        return resolveIntrinsics(deployment, stack, output.Value);
      }
    }
  }
  throw new Error(`No stack exports ${exportName}: the templates do not deploy together.`);
}
