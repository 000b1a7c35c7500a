import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface SecureBucketProps {
  /** Customer-managed key for SSE-KMS (with an S3 Bucket Key). */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** What happens to the bucket when its stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Days after which current objects move to S3 Intelligent-Tiering; ignored when `expirationDays` is set.
   * @default 30
   */
  readonly intelligentTieringAfterDays?: number;
  /**
   * Days after which non-current versions expire.
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days after which current objects expire (e.g. Athena results).
   * @default - never
   */
  readonly expirationDays?: number;
  /**
   * Rules for key prefixes whose objects live shorter than the layers': noncurrent versions and,
   * optionally, current objects expire after the given days (the shorter of overlapping rules
   * applies).
   * @default - none
   */
  readonly prefixRules?: readonly {
    readonly prefix: string;
    readonly noncurrentVersionExpirationDays: number;
    readonly expirationDays?: number;
  }[];
}

/**
 * An S3 bucket with the platform's baseline: SSE-KMS with a customer-managed key and bucket key,
 * versioning, all public access blocked, TLS-only (1.2+) access, bucket-owner-enforced ownership,
 * server access logs, and lifecycle rules (tiering, non-current expiry, aborted uploads).
 */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const tieringDays = props.intelligentTieringAfterDays ?? 30;
    const noncurrentDays = props.noncurrentVersionExpirationDays ?? 30;
    for (const [key, value] of Object.entries({ intelligentTieringAfterDays: tieringDays, noncurrentDays })) {
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`SecureBucket ${id}: ${key} must be a non-negative integer, got ${value}`);
      }
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${id.toLowerCase()}/`,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        {
          id: 'baseline',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          ...(props.expirationDays === undefined ? {} : { expiration: Duration.days(props.expirationDays) }),
          // Short-lived objects (an expiry is set) are not worth tiering.
          ...(props.expirationDays === undefined
            ? {
                transitions: [
                  {
                    storageClass: s3.StorageClass.INTELLIGENT_TIERING,
                    transitionAfter: Duration.days(tieringDays),
                  },
                ],
              }
            : {}),
        },
        ...(props.prefixRules ?? []).map((r) => ({
          id: `prefix-${r.prefix.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`,
          prefix: r.prefix,
          noncurrentVersionExpiration: Duration.days(r.noncurrentVersionExpirationDays),
          ...(r.expirationDays === undefined ? {} : { expiration: Duration.days(r.expirationDays) }),
        })),
      ],
    });
  }
}
