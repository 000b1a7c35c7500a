/**
 * Reads the Kafka event source mappings of a stage from a synthesized cloud assembly (`cdk.out`):
 * each `AWS::Lambda::EventSourceMapping` with a Kafka source, its function's settings (handler
 * asset, `Handler`, `Timeout`, `Environment`) and the stack it lives in. Values that are
 * CloudFormation intrinsics are kept as they are, to be resolved against the deployed stacks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { StartingPosition } from './event.ts';

/** A CloudFormation value: a literal or an intrinsic (`Ref`, `Fn::GetAtt`, `Fn::ImportValue`, …). */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

export interface MappingDefinition {
  /** Function id: the construct id of the consumer, first letter lowered (`ingest`, `enrich`, …). */
  readonly functionId: string;
  readonly stackName: string;
  readonly functionLogicalId: string;
  readonly mappingLogicalId: string;
  readonly topics: readonly string[];
  readonly bootstrapServers: readonly string[];
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly startingPosition: StartingPosition;
  readonly maximumRetryAttempts: number;
  /** -1 for no limit. */
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly consumerGroupId: string;
  /** The Amazon MSK cluster ARN (`EventSourceArn`, possibly an intrinsic); undefined for self-managed Kafka. */
  readonly eventSourceArn?: CfnValue;
  /** ARN of the on-failure destination (possibly an unresolved intrinsic), or undefined. */
  readonly onFailureDestination?: CfnValue;
  readonly minimumPollers: number;
  readonly maximumPollers: number;
  /** Bundled handler file (absolute) and the export to call. */
  readonly handlerFile: string;
  readonly handlerExport: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMiB: number;
  readonly environment: Readonly<Record<string, CfnValue>>;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      displayName?: string;
      properties?: { directoryName?: string; templateFile?: string; stackName?: string };
    }
  >;
}

interface Resource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
}

interface Template {
  Resources?: Record<string, Resource>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The folder of the stage's nested assembly (`assembly-Tidewater-<stage>`). */
export function stageAssemblyDir(cdkOut: string, stage: string): string {
  const manifestFile = join(cdkOut, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`${manifestFile} not found: synthesize first (npx cdk synth -c env=${stage})`);
  }
  const manifest = readJson<Manifest>(manifestFile);
  const name = `assembly-Tidewater-${stage}`;
  const artifact = manifest.artifacts?.[name];
  if (!artifact || artifact.type !== 'cdk:cloud-assembly') {
    throw new Error(
      `${manifestFile} has no ${name}: it was synthesized for another environment; run npx cdk synth -c env=${stage}`,
    );
  }
  return join(cdkOut, artifact.properties?.directoryName ?? name);
}

function str(v: CfnValue | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: CfnValue | undefined, fallback: number): number {
  return typeof v === 'number' ? v : fallback;
}

function obj(v: CfnValue | undefined): Record<string, CfnValue> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function functionIdOf(cdkPath: string | undefined, logicalId: string): string {
  // "Tidewater-local/Processing/Ingest/Function/Resource" -> "ingest"
  const parts = (cdkPath ?? '').split('/');
  const i = parts.lastIndexOf('Function');
  const id = i > 0 ? (parts[i - 1] as string) : logicalId;
  return id.charAt(0).toLowerCase() + id.slice(1);
}

/** Every Kafka event source mapping of the stage, with its function. */
export function readMappings(cdkOut: string, stage = 'local'): MappingDefinition[] {
  const root = isAbsolute(cdkOut) ? cdkOut : resolve(cdkOut);
  const dir = stageAssemblyDir(root, stage);
  const manifest = readJson<Manifest>(join(dir, 'manifest.json'));
  const out: MappingDefinition[] = [];
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = artifact.properties?.templateFile;
    const stackName = artifact.properties?.stackName;
    if (!templateFile || !stackName) continue;
    const template = readJson<Template>(join(dir, templateFile));
    const resources = template.Resources ?? {};
    for (const [mappingLogicalId, res] of Object.entries(resources)) {
      if (res.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const p = res.Properties ?? {};
      const selfManaged = obj(p['SelfManagedEventSource']);
      const isMsk =
        (typeof p['EventSourceArn'] === 'object' || typeof p['EventSourceArn'] === 'string') &&
        Array.isArray(p['Topics']);
      if (!selfManaged && !isMsk) continue;
      const fnRef = obj(p['FunctionName']);
      const functionLogicalId = str(fnRef?.['Ref'] ?? p['FunctionName'], `${mappingLogicalId}.FunctionName`);
      const fn = resources[functionLogicalId];
      if (!fn || fn.Type !== 'AWS::Lambda::Function') {
        throw new Error(
          `${stackName}/${mappingLogicalId}: function ${functionLogicalId} is not in the same stack`,
        );
      }
      const fp = fn.Properties ?? {};
      const assetPath = fn.Metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string') {
        throw new Error(
          `${stackName}/${functionLogicalId}: no aws:asset:path metadata (inline code is not supported)`,
        );
      }
      const handler = str(fp['Handler'], `${functionLogicalId}.Handler`);
      const dot = handler.lastIndexOf('.');
      const moduleName = handler.slice(0, dot);
      const assetDir = resolve(dir, assetPath);
      const handlerFile = ['.mjs', '.js', '.cjs']
        .map((ext) => join(assetDir, `${moduleName}${ext}`))
        .find((f) => existsSync(f));
      if (!handlerFile)
        throw new Error(`${stackName}/${functionLogicalId}: no ${moduleName}.mjs/.js in ${assetDir}`);
      const servers = obj(obj(selfManaged?.['Endpoints']) ?? undefined)?.['KafkaBootstrapServers'];
      const kafkaConfig =
        obj(p['SelfManagedKafkaEventSourceConfig']) ?? obj(p['AmazonManagedKafkaEventSourceConfig']) ?? {};
      const pollers = obj(p['ProvisionedPollerConfig']);
      const responseTypes = p['FunctionResponseTypes'];
      const startingPosition = p['StartingPosition'] === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON';
      const functionId = functionIdOf(
        typeof fn.Metadata?.['aws:cdk:path'] === 'string' ? fn.Metadata['aws:cdk:path'] : undefined,
        functionLogicalId,
      );
      const env = obj(obj(fp['Environment'])?.['Variables']) ?? {};
      const onFailure = obj(obj(p['DestinationConfig'])?.['OnFailure'])?.['Destination'];
      out.push({
        functionId,
        stackName,
        functionLogicalId,
        mappingLogicalId,
        topics: (Array.isArray(p['Topics']) ? p['Topics'] : []).map((t) =>
          str(t, `${mappingLogicalId}.Topics`),
        ),
        bootstrapServers: Array.isArray(servers) ? servers.map((s) => str(s, 'KafkaBootstrapServers')) : [],
        batchSize: num(p['BatchSize'], 100),
        maximumBatchingWindowInSeconds: num(p['MaximumBatchingWindowInSeconds'], 0.5),
        startingPosition,
        maximumRetryAttempts: num(p['MaximumRetryAttempts'], -1),
        maximumRecordAgeInSeconds: num(p['MaximumRecordAgeInSeconds'], -1),
        bisectBatchOnFunctionError: p['BisectBatchOnFunctionError'] === true,
        reportBatchItemFailures:
          Array.isArray(responseTypes) && responseTypes.includes('ReportBatchItemFailures'),
        // AWS defaults the group to the mapping's UUID; locally the logical id is the stable equivalent.
        consumerGroupId:
          typeof kafkaConfig['ConsumerGroupId'] === 'string'
            ? kafkaConfig['ConsumerGroupId']
            : `${stackName}-${mappingLogicalId}`,
        ...(isMsk && !selfManaged ? { eventSourceArn: p['EventSourceArn'] as CfnValue } : {}),
        ...(onFailure === undefined ? {} : { onFailureDestination: onFailure }),
        minimumPollers: num(pollers?.['MinimumPollers'], 1),
        maximumPollers: num(pollers?.['MaximumPollers'], 1),
        handlerFile,
        handlerExport: handler.slice(dot + 1),
        timeoutSeconds: num(fp['Timeout'], 3),
        memorySizeMiB: num(fp['MemorySize'], 128),
        environment: env,
      });
    }
  }
  return out;
}
