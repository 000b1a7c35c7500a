/**
 * Test support: synthesize an environment once per test file (bundling off: assets are hashed, not
 * built), with cdk-nag AwsSolutions attached — `app.synth()` throws on any unacknowledged finding.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../lib/app.ts';
import type { EnvironmentConfig } from '../../../lib/config/environment-config.ts';
import type { ViewDefinition } from '../../../lib/lakehouse/athena-views.ts';
import type { TidewaterStage } from '../../../lib/tidewater-stage.ts';

export interface SynthesizedEnvironment {
  readonly stage: TidewaterStage;
  readonly config: EnvironmentConfig;
  /** Template of a stack of the stage by its construct id (`Network`, `Processing`, ...). */
  template(stackId: StackId): Template;
}

export type StackId = 'Network' | 'Streaming' | 'Lakehouse' | 'State' | 'Processing' | 'Observability';

export function synthEnvironment(
  envName: string,
  options: { readonly views?: readonly ViewDefinition[]; readonly config?: EnvironmentConfig } = {},
): SynthesizedEnvironment {
  const { app, stage, config } = buildApp({
    envName,
    bundle: false,
    ...(options.config ? { config: options.config } : {}),
    ...(options.views ? { views: options.views } : {}),
  });
  app.synth();
  const cache = new Map<StackId, Template>();
  return {
    stage,
    config,
    template(stackId) {
      let t = cache.get(stackId);
      if (!t) {
        const stack = stage.node.tryFindChild(stackId);
        if (!stack) throw new Error(`Stage ${stage.stageName} has no ${stackId} stack`);
        t = Template.fromStack(stack as Parameters<typeof Template.fromStack>[0]);
        cache.set(stackId, t);
      }
      return t;
    },
  };
}
