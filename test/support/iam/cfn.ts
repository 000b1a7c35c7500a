/**
 * Synthesized CloudFormation templates of one stage, read symbolically: intrinsics (`Ref`,
 * `Fn::GetAtt`, `Fn::ImportValue`, `Fn::Join`, `Fn::Split`, `Fn::Select`, `Fn::Sub`) resolve to
 * strings in which what is only known at deploy time is a token `{<stack>.<logicalId>}`, and ARNs
 * have their real shape (`arn:{partition}:s3:::{Tidewater-dev-Lakehouse.GoldBucket965C8A8D}`), so
 * that an imported bucket ARN, the bucket name a function reads from its environment and the
 * resource of a policy statement all resolve to the same text. Tokens hold no `:` or `/`, so
 * `Fn::Split` on a resolved ARN works as it would on the deployed one. An intrinsic this module does
 * not know throws: a template it cannot read is never read half-way.
 */

export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
  readonly Outputs?: Readonly<
    Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>
  >;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

/** Values of the pseudo parameters; tokens unless the stack has a concrete environment. */
export interface Pseudo {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export const AGNOSTIC: Pseudo = { partition: '{partition}', region: '{region}', account: '{account}' };

export type Resolved = string | readonly Resolved[];

export class UnsupportedTemplateError extends Error {
  override readonly name = 'UnsupportedTemplateError';
}

/** Which resource a token or a resolved name stands for. */
export interface ResourceRef {
  readonly stack: string;
  readonly logicalId: string;
  readonly resource: CfnResource;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class StageModel {
  readonly templates: Readonly<Record<string, CfnTemplate>>;
  readonly pseudo: Pseudo;
  private readonly exports = new Map<string, { stack: string; value: unknown }>();

  /** @param templates every stack of the stage, by stack name (`Tidewater-dev-State`) */
  constructor(templates: Readonly<Record<string, CfnTemplate>>, pseudo: Pseudo = AGNOSTIC) {
    this.templates = templates;
    this.pseudo = pseudo;
    for (const [stack, t] of Object.entries(templates)) {
      for (const o of Object.values(t.Outputs ?? {})) {
        if (o.Export === undefined) continue;
        const name = this.resolveString(stack, o.Export.Name);
        this.exports.set(name, { stack, value: o.Value });
      }
    }
  }

  resource(stack: string, logicalId: string): CfnResource {
    const r = this.templates[stack]?.Resources?.[logicalId];
    if (r === undefined) throw new UnsupportedTemplateError(`no resource ${logicalId} in stack ${stack}`);
    return r;
  }

  /** Every resource of a type, in every stack. */
  resourcesOfType(type: string): ResourceRef[] {
    const out: ResourceRef[] = [];
    for (const [stack, t] of Object.entries(this.templates)) {
      for (const [logicalId, resource] of Object.entries(t.Resources ?? {})) {
        if (resource.Type === type) out.push({ stack, logicalId, resource });
      }
    }
    return out;
  }

  /** The resource a token `{stack.logicalId}` (or `{stack.logicalId.attr}`) names, if any. */
  resourceOfToken(token: string): ResourceRef | undefined {
    const m = /^\{([^.{}]+)\.([^.{}]+)(?:\.[^{}]+)?\}$/.exec(token);
    if (!m) return undefined;
    const [, stack, logicalId] = m as unknown as [string, string, string];
    const resource = this.templates[stack]?.Resources?.[logicalId];
    return resource === undefined ? undefined : { stack, logicalId, resource };
  }

  resolveString(stack: string, value: unknown): string {
    const r = this.resolve(stack, value);
    if (typeof r !== 'string')
      throw new UnsupportedTemplateError(
        `expected a string in ${stack}, got a list: ${JSON.stringify(value)}`,
      );
    return r;
  }

  /** A property value with every intrinsic resolved; lists stay lists. */
  resolve(stack: string, value: unknown): Resolved {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (!isRecord(value)) throw new UnsupportedTemplateError(`cannot resolve ${JSON.stringify(value)}`);
    const keys = Object.keys(value);
    const [fn] = keys;
    if (keys.length !== 1 || fn === undefined)
      throw new UnsupportedTemplateError(`not an intrinsic: ${JSON.stringify(value)}`);
    const arg = value[fn];
    switch (fn) {
      case 'Ref':
        return this.ref(stack, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(stack, String(logicalId), String(attr));
      }
      case 'Fn::ImportValue': {
        const name = this.resolveString(stack, arg);
        const exp = this.exports.get(name);
        if (exp === undefined) throw new UnsupportedTemplateError(`no stack of the stage exports ${name}`);
        return this.resolve(exp.stack, exp.value);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [unknown, unknown];
        const list = this.resolve(stack, parts);
        if (typeof list === 'string') throw new UnsupportedTemplateError('Fn::Join of a non-list');
        return list.map((p) => this.flat(p)).join(this.resolveString(stack, sep));
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [unknown, unknown];
        return this.resolveString(stack, source).split(this.resolveString(stack, sep));
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(stack, list);
        const i = Number(this.resolveString(stack, index));
        const item = typeof items === 'string' ? undefined : items[i];
        if (item === undefined) throw new UnsupportedTemplateError(`Fn::Select ${i} out of range`);
        return item;
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [unknown, unknown]) : [arg, {}];
        const bound = isRecord(vars) ? vars : {};
        return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
          if (name in bound) return this.resolveString(stack, bound[name]);
          const [id, attr] = name.split('.');
          return attr === undefined ? this.ref(stack, name) : this.flat(this.getAtt(stack, String(id), attr));
        });
      }
      default:
        throw new UnsupportedTemplateError(`intrinsic ${fn} is not supported (${JSON.stringify(value)})`);
    }
  }

  private flat(r: Resolved): string {
    if (typeof r === 'string') return r;
    throw new UnsupportedTemplateError(`expected a string, got a list ${JSON.stringify(r)}`);
  }

  private ref(stack: string, name: string): string {
    const p = this.pseudo;
    if (name === 'AWS::Partition') return p.partition;
    if (name === 'AWS::Region') return p.region;
    if (name === 'AWS::AccountId') return p.account;
    if (name === 'AWS::URLSuffix') return 'amazonaws.com';
    if (name === 'AWS::StackName') return stack;
    if (name.startsWith('AWS::'))
      throw new UnsupportedTemplateError(`pseudo parameter ${name} is not supported`);
    const templateParameters = (this.templates[stack] as { Parameters?: Record<string, unknown> }).Parameters;
    if (templateParameters?.[name] !== undefined) return `{${stack}.${name}}`;
    const r = this.resource(stack, name);
    const props = r.Properties ?? {};
    const token = `{${stack}.${name}}`;
    const literal = (key: string) => (typeof props[key] === 'string' ? (props[key] as string) : token);
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        return literal('BucketName');
      case 'AWS::DynamoDB::Table':
        return literal('TableName');
      case 'AWS::SQS::Queue':
        return `https://sqs.${p.region}.amazonaws.com/${p.account}/${literal('QueueName')}`;
      case 'AWS::MSK::Cluster':
      case 'AWS::MSK::ServerlessCluster':
        return this.getAtt(stack, name, 'Arn');
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${p.partition}:iam::${p.account}:policy/${literal('ManagedPolicyName')}`;
      default:
        return token;
    }
  }

  private getAtt(stack: string, logicalId: string, attr: string): string {
    const r = this.resource(stack, logicalId);
    const p = this.pseudo;
    const name = () => this.ref(stack, logicalId);
    const props = r.Properties ?? {};
    switch (`${r.Type}.${attr}`) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:${p.partition}:s3:::${name()}`;
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:${p.partition}:dynamodb:${p.region}:${p.account}:table/${name()}`;
      case 'AWS::SQS::Queue.Arn':
        return `arn:${p.partition}:sqs:${p.region}:${p.account}:${this.queueName(stack, logicalId)}`;
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(stack, logicalId);
      case 'AWS::SQS::Queue.QueueUrl':
        return name();
      case 'AWS::KMS::Key.Arn':
        return `arn:${p.partition}:kms:${p.region}:${p.account}:key/${name()}`;
      case 'AWS::MSK::Cluster.Arn':
      case 'AWS::MSK::ServerlessCluster.Arn': {
        const clusterName =
          typeof props['ClusterName'] === 'string' ? props['ClusterName'] : `{${stack}.${logicalId}.name}`;
        return `arn:${p.partition}:kafka:${p.region}:${p.account}:cluster/${clusterName}/{${stack}.${logicalId}.uuid}`;
      }
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${name()}:*`;
      case 'AWS::IAM::Role.Arn':
        return `arn:${p.partition}:iam::${p.account}:role/${name()}`;
      default:
        return `{${stack}.${logicalId}.${attr}}`;
    }
  }

  private queueName(stack: string, logicalId: string): string {
    const props = this.resource(stack, logicalId).Properties ?? {};
    return typeof props['QueueName'] === 'string' ? props['QueueName'] : `{${stack}.${logicalId}}`;
  }
}
