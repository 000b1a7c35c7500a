import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { skipCheckov } from '../../lib/constructs/checkov.ts';

const REASON = 'A reason long enough to say why the check does not apply to this resource.';

function bucketStack() {
  const stack = new Stack(new App(), 'Test');
  return { stack, bucket: new s3.Bucket(stack, 'Bucket') };
}

describe('skipCheckov', () => {
  it("writes the skips into the resource's Metadata.checkov.skip, where checkov reads them", () => {
    // Prepare
    const { stack, bucket } = bucketStack();

    // Act
    skipCheckov(bucket, { id: 'CKV_AWS_18', comment: REASON });
    skipCheckov(bucket, { id: 'CKV_AWS_21', comment: REASON });

    // Assess
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Metadata: {
        checkov: {
          skip: [
            { id: 'CKV_AWS_18', comment: REASON },
            { id: 'CKV_AWS_21', comment: REASON },
          ],
        },
      },
    });
  });

  it('refuses a skip without a real reason, naming the construct', () => {
    // Prepare
    const { bucket } = bucketStack();

    // Act & Assess
    expect(() => skipCheckov(bucket, { id: 'CKV_AWS_18', comment: 'log bucket' })).toThrow(
      /Test\/Bucket CKV_AWS_18: the comment "log bucket" is too short/,
    );
  });

  it('refuses an id that is not a checkov AWS check, and the same check twice', () => {
    // Prepare
    const { bucket } = bucketStack();
    skipCheckov(bucket, { id: 'CKV_AWS_18', comment: REASON });

    // Act & Assess
    expect(() => skipCheckov(bucket, { id: 'AwsSolutions-S1', comment: REASON })).toThrow(
      /"AwsSolutions-S1" is not a checkov AWS check id/,
    );
    expect(() => skipCheckov(bucket, { id: 'CKV_AWS_18', comment: REASON })).toThrow(
      /Test\/Bucket already skips CKV_AWS_18/,
    );
  });

  it('refuses a construct with no CloudFormation resource', () => {
    // Prepare
    const { stack } = bucketStack();

    // Act & Assess
    expect(() => skipCheckov(stack, { id: 'CKV_AWS_18', comment: REASON })).toThrow(
      /Test is not a CloudFormation resource/,
    );
  });
});
