/**
 * Deploys the `local` stage to the AWS emulator (idempotently) and resolves CloudFormation values
 * of the synthesized templates (`Ref`, `Fn::GetAtt`, `Fn::ImportValue`, `Fn::Select`, `Fn::Split`,
 * `Fn::Join`, `Fn::Sub`) to the physical names of what was deployed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListExportsCommand,
  type StackResource,
} from '@aws-sdk/client-cloudformation';
import { awsClientConfig, type Endpoints, endpoints } from '../endpoints.ts';
import type { CfnValue } from './template.ts';
import { stageAssemblyDir } from './template.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const ACCOUNT = '000000000000';

export interface DeployLocalOptions {
  /** @default `<repo>/cdk.out` */
  readonly cdkOut?: string;
  /** @default 'local' */
  readonly stage?: string;
  readonly endpoints?: Endpoints;
  /** Progress lines. @default stderr */
  readonly log?: (line: string) => void;
  /** Deploy even when the deployed templates match. @default false */
  readonly force?: boolean;
}

export interface DeployLocalResult {
  /** False when every stack was already deployed with the same template. */
  readonly deployed: boolean;
  readonly stacks: readonly string[];
  readonly seconds: number;
}

interface StageStack {
  readonly stackName: string;
  readonly templateFile: string;
}

function stageStacks(cdkOut: string, stage: string): StageStack[] {
  const dir = stageAssemblyDir(cdkOut, stage);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const out: StageStack[] = [];
  for (const a of Object.values(manifest.artifacts ?? {})) {
    if (a.type !== 'aws:cloudformation:stack' || !a.properties?.templateFile || !a.properties.stackName)
      continue;
    out.push({ stackName: a.properties.stackName, templateFile: join(dir, a.properties.templateFile) });
  }
  return out;
}

/** JSON with sorted keys, so two templates compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function cfn(e: Endpoints): CloudFormationClient {
  return new CloudFormationClient(awsClientConfig(e));
}

/** Stacks of the stage whose deployed template differs from the synthesized one (or that are missing). */
export async function staleStacks(
  cdkOut: string,
  stage: string,
  e: Endpoints = endpoints(),
): Promise<string[]> {
  const client = cfn(e);
  const stale: string[] = [];
  try {
    for (const s of stageStacks(cdkOut, stage)) {
      try {
        const described = await client.send(new DescribeStacksCommand({ StackName: s.stackName }));
        const status = described.Stacks?.[0]?.StackStatus ?? '';
        if (!/_COMPLETE$/.test(status) || status.startsWith('DELETE') || status.includes('ROLLBACK')) {
          stale.push(s.stackName);
          continue;
        }
        const deployed = await client.send(new GetTemplateCommand({ StackName: s.stackName }));
        const body = deployed.TemplateBody ?? '';
        const local = readFileSync(s.templateFile, 'utf8');
        if (canonical(JSON.parse(body)) !== canonical(JSON.parse(local))) stale.push(s.stackName);
      } catch {
        stale.push(s.stackName);
      }
    }
  } finally {
    client.destroy();
  }
  return stale;
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else {
        log(tail);
        reject(
          new Error(
            `${cmd} ${args.join(' ')} exited with ${code}: ${tail.split('\n').slice(-6).join(' | ')}`,
          ),
        );
      }
    });
  });
}

function cdkEnv(e: Endpoints): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_REGION: e.region,
    AWS_DEFAULT_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
    CDK_DEFAULT_ACCOUNT: ACCOUNT,
    CDK_DEFAULT_REGION: e.region,
  };
}

/**
 * Makes sure `cdkOut` holds the stage's assembly, synthesizing it (`npx cdk synth -c env=<stage>`)
 * when it does not. Returns whether it synthesized.
 */
export async function ensureLocalAssembly(options: DeployLocalOptions = {}): Promise<boolean> {
  const stage = options.stage ?? 'local';
  const cdkOut = options.cdkOut ?? join(REPO_ROOT, 'cdk.out');
  try {
    stageAssemblyDir(cdkOut, stage);
    return false;
  } catch {
    const log = options.log ?? ((line: string) => process.stderr.write(`[synth] ${line}\n`));
    log(`synthesizing Tidewater-${stage} into ${cdkOut}`);
    await run(
      'npx',
      ['cdk', 'synth', '-c', `env=${stage}`, '--quiet', '--output', cdkOut],
      cdkEnv(options.endpoints ?? endpoints()),
      log,
    );
    return true;
  }
}

/**
 * Deploys `Tidewater-<stage>/*` to the emulator with the pinned CDK CLI (`npx cdk deploy -c
 * env=<stage> --require-approval never`), bootstrapping first when the `CDKToolkit` stack is
 * missing. Skipped when every stack is already deployed with the template in `cdkOut`.
 */
export async function deployLocal(options: DeployLocalOptions = {}): Promise<DeployLocalResult> {
  const t0 = Date.now();
  const stage = options.stage ?? 'local';
  const cdkOut = options.cdkOut ?? join(REPO_ROOT, 'cdk.out');
  const e = options.endpoints ?? endpoints();
  const log = options.log ?? ((line: string) => process.stderr.write(`[deploy] ${line}\n`));
  const env = cdkEnv(e);
  let stale: string[];
  try {
    stale = await staleStacks(cdkOut, stage, e);
  } catch {
    stale = ['(no synthesized assembly)'];
  }
  if (stale.length === 0 && !options.force) {
    return { deployed: false, stacks: [], seconds: (Date.now() - t0) / 1000 };
  }
  const client = cfn(e);
  try {
    await client.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }));
  } catch {
    log(`bootstrapping aws://${ACCOUNT}/${e.region}`);
    await run('npx', ['cdk', 'bootstrap', `aws://${ACCOUNT}/${e.region}`, '-c', `env=${stage}`], env, log);
  } finally {
    client.destroy();
  }
  log(`deploying Tidewater-${stage}/* (stale: ${stale.join(', ')})`);
  await run(
    'npx',
    [
      'cdk',
      'deploy',
      '-c',
      `env=${stage}`,
      '--require-approval',
      'never',
      '--progress',
      'events',
      `Tidewater-${stage}/*`,
    ],
    env,
    log,
  );
  return { deployed: true, stacks: stale, seconds: (Date.now() - t0) / 1000 };
}

/** What intrinsics resolve against: each stack's resources, the exports, the region and account. */
export interface DeployedState {
  readonly region: string;
  readonly account: string;
  readonly resources: ReadonlyMap<string, ReadonlyMap<string, StackResource>>;
  readonly exports: ReadonlyMap<string, string>;
}

export async function describeDeployed(
  stackNames: readonly string[],
  e: Endpoints = endpoints(),
): Promise<DeployedState> {
  const client = cfn(e);
  try {
    const resources = new Map<string, Map<string, StackResource>>();
    for (const name of new Set(stackNames)) {
      const r = await client.send(new DescribeStackResourcesCommand({ StackName: name }));
      resources.set(name, new Map((r.StackResources ?? []).map((sr) => [sr.LogicalResourceId ?? '', sr])));
    }
    const exports = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await client.send(new ListExportsCommand(token ? { NextToken: token } : {}));
      for (const x of page.Exports ?? []) if (x.Name && x.Value !== undefined) exports.set(x.Name, x.Value);
      token = page.NextToken;
    } while (token);
    return { region: e.region, account: ACCOUNT, resources, exports };
  } finally {
    client.destroy();
  }
}

export class UnresolvedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedValueError';
  }
}

function arnOf(type: string, physicalId: string, region: string, account: string): string | undefined {
  switch (type) {
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${account}:${physicalId.split('/').pop()}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${account}:function:${physicalId}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${account}:table/${physicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${physicalId}`;
    case 'AWS::SNS::Topic':
      return physicalId;
    case 'AWS::CloudWatch::Alarm':
      return physicalId.startsWith('arn:')
        ? physicalId
        : `arn:aws:cloudwatch:${region}:${account}:alarm:${physicalId}`;
    default:
      return physicalId.startsWith('arn:') ? physicalId : undefined;
  }
}

/** Resolves a CloudFormation value of `stackName` against the deployed state. */
export function resolveValue(value: CfnValue, stackName: string, state: DeployedState): string {
  const r = (v: CfnValue): string => resolveValue(v, stackName, state);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || Array.isArray(value))
    throw new UnresolvedValueError(`cannot resolve ${JSON.stringify(value)}`);
  const [fn, arg] = Object.entries(value)[0] ?? [];
  const list = (v: CfnValue | undefined): CfnValue[] => (Array.isArray(v) ? v : []);
  switch (fn) {
    case 'Ref': {
      const name = String(arg);
      if (name === 'AWS::Region') return state.region;
      if (name === 'AWS::AccountId') return state.account;
      if (name === 'AWS::Partition') return 'aws';
      if (name === 'AWS::URLSuffix') return 'amazonaws.com';
      if (name === 'AWS::StackName') return stackName;
      const res = state.resources.get(stackName)?.get(name);
      if (!res?.PhysicalResourceId)
        throw new UnresolvedValueError(`${stackName}: Ref ${name} is not deployed`);
      return res.PhysicalResourceId;
    }
    case 'Fn::GetAtt': {
      const [logical, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      const res = state.resources.get(stackName)?.get(String(logical));
      if (!res?.PhysicalResourceId || !res.ResourceType) {
        throw new UnresolvedValueError(`${stackName}: GetAtt ${logical}.${attr} is not deployed`);
      }
      if (attr === 'Arn') {
        const arn = arnOf(res.ResourceType, res.PhysicalResourceId, state.region, state.account);
        if (arn) return arn;
      }
      if (attr === 'QueueUrl' || attr === 'QueueName') {
        return attr === 'QueueName'
          ? (res.PhysicalResourceId.split('/').pop() ?? '')
          : res.PhysicalResourceId;
      }
      throw new UnresolvedValueError(
        `${stackName}: GetAtt ${logical}.${attr} (${res.ResourceType}) is not supported`,
      );
    }
    case 'Fn::ImportValue': {
      const name = r(arg ?? null);
      const v = state.exports.get(name);
      if (v === undefined) throw new UnresolvedValueError(`export ${name} is not deployed`);
      return v;
    }
    case 'Fn::Select': {
      const [index, from] = list(arg);
      const items = Array.isArray(from) ? from.map(r) : resolveList(from ?? null, stackName, state);
      const picked = items[Number(r(index ?? null))];
      if (picked === undefined)
        throw new UnresolvedValueError(`Fn::Select ${JSON.stringify(arg)} out of range`);
      return picked;
    }
    case 'Fn::Join': {
      const [sep, items] = list(arg);
      return list(items)
        .map(r)
        .join(String(sep ?? ''));
    }
    case 'Fn::Sub': {
      const [tpl, vars] = Array.isArray(arg) ? arg : [arg, {}];
      const bindings = (vars ?? {}) as Record<string, CfnValue>;
      return String(tpl).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (name in bindings) return r(bindings[name] ?? null);
        if (name.includes('.')) return r({ 'Fn::GetAtt': name.split('.') });
        return r({ Ref: name });
      });
    }
    default:
      throw new UnresolvedValueError(`unsupported intrinsic ${JSON.stringify(value)}`);
  }
}

function resolveList(value: CfnValue, stackName: string, state: DeployedState): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'Fn::Split' in value) {
    const [sep, source] = value['Fn::Split'] as CfnValue[];
    return resolveValue(source ?? null, stackName, state).split(String(sep));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, stackName, state));
  throw new UnresolvedValueError(`expected a list, got ${JSON.stringify(value)}`);
}
