import { type Environment, Stage, type StageProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config/environment-config.ts';
import type { ViewDefinition } from './lakehouse/athena-views.ts';
import { LakehouseStack } from './stacks/lakehouse-stack.ts';
import { NetworkStack } from './stacks/network-stack.ts';
import { ObservabilityStack } from './stacks/observability-stack.ts';
import { ProcessingStack } from './stacks/processing-stack.ts';
import { StateStack } from './stacks/state-stack.ts';
import { StreamingStack } from './stacks/streaming-stack.ts';

export interface TidewaterStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /**
   * Athena views to declare instead of the domain's.
   * @default every view of the environment's domain
   */
  readonly views?: readonly ViewDefinition[];
}

/**
 * One deployment environment. Stacks (construct ids are a contract; stack names are `<stage>-<id>`):
 * - `Network` (VPC, endpoints) and `Streaming` (MSK, topics) — absent when Kafka is self-managed (local);
 * - `Lakehouse` and `State` — stateful, retained when `removalPolicy: retain`;
 * - `Processing` — the Kafka consumer functions and their event source mappings;
 * - `Observability` — dashboard, alarms, alarm topic.
 */
export class TidewaterStage extends Stage {
  readonly network?: NetworkStack;
  readonly streaming?: StreamingStack;
  readonly lakehouse: LakehouseStack;
  readonly state: StateStack;
  readonly processing: ProcessingStack;
  readonly observability: ObservabilityStack;

  constructor(scope: Construct, id: string, props: TidewaterStageProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('project', 'tidewater');
    Tags.of(this).add('environment', config.name);

    if (config.kafka.mode !== 'self-managed') {
      this.network = new NetworkStack(this, 'Network', { config });
      this.streaming = new StreamingStack(this, 'Streaming', { config, vpc: this.network.vpc });
    }
    this.lakehouse = new LakehouseStack(this, 'Lakehouse', {
      config,
      ...(props.views ? { views: props.views } : {}),
    });
    this.state = new StateStack(this, 'State', { config });
    this.processing = new ProcessingStack(this, 'Processing', {
      config,
      lakehouse: this.lakehouse.exportForConsumers(),
      stateTable: this.state.stateTable,
      poisonQueue: this.state.poisonQueue,
      onFailureQueues: this.state.onFailureQueues,
      ...(this.network && this.streaming
        ? {
            msk: {
              clusterArn: this.streaming.clusterArn,
              bootstrapServers: this.streaming.bootstrapServers,
              vpc: this.network.vpc,
              clientSecurityGroup: this.streaming.clientSecurityGroup,
            },
          }
        : {}),
    });
    // Explicit exports carry no automatic dependency.
    this.processing.addStackDependency(this.lakehouse);
    this.observability = new ObservabilityStack(this, 'Observability', {
      config,
      consumers: this.processing.consumers,
      poisonQueue: this.state.poisonQueue,
      stateTable: this.state.stateTable,
    });
  }
}

/** Account and region: the config's, else the CDK CLI's (CDK_DEFAULT_*), else environment-agnostic. */
export function stageEnvironment(
  config: EnvironmentConfig,
  env: NodeJS.ProcessEnv = process.env,
): Environment {
  const account = config.account ?? env['CDK_DEFAULT_ACCOUNT'];
  const region = config.region ?? env['CDK_DEFAULT_REGION'];
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}
