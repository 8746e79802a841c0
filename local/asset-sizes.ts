/**
 * Unzipped size of every Lambda function's code asset plus its layers, read from a synthesized
 * cloud assembly (template + assets manifest), against Lambda's 250 MB unzipped limit.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { directoryBytes } from "#layers/build-onnxruntime-layer.js";

/** Lambda's quota for function code + all layers, unzipped. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

export interface FunctionAssetSize {
  readonly stack: string;
  readonly logicalId: string;
  readonly codeBytes: number;
  readonly layers: { readonly logicalId: string; readonly bytes: number }[];
  readonly totalBytes: number;
  readonly withinLimit: boolean;
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}
interface AssetsManifest {
  files: Record<string, { source: { path: string; packaging?: string } }>;
}

export function measureStackAssets(assemblyDir: string, stackName: string): FunctionAssetSize[] {
  const template = JSON.parse(
    readFileSync(path.join(assemblyDir, `${stackName}.template.json`), "utf8"),
  ) as Template;
  const manifest = JSON.parse(
    readFileSync(path.join(assemblyDir, `${stackName}.assets.json`), "utf8"),
  ) as AssetsManifest;

  const assetBytes = (s3Key: unknown, owner: string): number => {
    if (typeof s3Key !== "string" || !s3Key.endsWith(".zip")) {
      throw new Error(
        `${stackName}/${owner}: expected a file asset S3Key like <hash>.zip, got ${JSON.stringify(s3Key)}`,
      );
    }
    const entry = manifest.files[s3Key.slice(0, -".zip".length)];
    if (!entry) throw new Error(`${stackName}/${owner}: asset ${s3Key} is not in ${stackName}.assets.json`);
    return directoryBytes(path.join(assemblyDir, entry.source.path));
  };

  const results: FunctionAssetSize[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== "AWS::Lambda::Function") continue;
    const props = resource.Properties ?? {};
    const code = props.Code as { S3Key?: unknown; ZipFile?: string } | undefined;
    if (!code || code.ZipFile !== undefined) continue; // inline code: a few KB by definition
    const layers = ((props.Layers as { Ref?: string }[] | undefined) ?? []).map((ref) => {
      const layerId = ref.Ref;
      const layer = layerId ? template.Resources[layerId] : undefined;
      if (!layerId || !layer)
        throw new Error(`${stackName}/${logicalId}: layer ${JSON.stringify(ref)} is not in this stack`);
      const content = layer.Properties?.Content as { S3Key?: unknown };
      return { logicalId: layerId, bytes: assetBytes(content?.S3Key, layerId) };
    });
    const codeBytes = assetBytes(code.S3Key, logicalId);
    const totalBytes = codeBytes + layers.reduce((sum, l) => sum + l.bytes, 0);
    results.push({
      stack: stackName,
      logicalId,
      codeBytes,
      layers,
      totalBytes,
      withinLimit: totalBytes <= LAMBDA_UNZIPPED_LIMIT_BYTES,
    });
  }
  return results;
}

export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}
