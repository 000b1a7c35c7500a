import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** Construct id of the key in its stack. */
export const LOGS_KEY_ID = 'LogsKey';

/**
 * The KMS key that encrypts the CloudWatch Logs log groups of `scope`'s stack: one per stack, made on
 * first use, rotated yearly. Its policy lets CloudWatch Logs of the stack's region use it for log
 * groups of the stack's account only (the `kms:EncryptionContext:aws:logs:arn` condition of the
 * CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management Service").
 * @param removalPolicy the stack's log groups' policy: a retained log group needs its key
 */
export function logsKey(scope: Construct, removalPolicy: RemovalPolicy): kms.Key {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(LOGS_KEY_ID);
  if (existing instanceof kms.Key) return existing;
  const key = new kms.Key(stack, LOGS_KEY_ID, {
    description: `CloudWatch Logs log groups of ${stack.stackName}`,
    enableKeyRotation: true,
    removalPolicy,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  return key;
}
