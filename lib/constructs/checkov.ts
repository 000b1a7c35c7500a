import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A checkov check that does not apply to one resource, and why. checkov reads these from the
 * resource's CloudFormation metadata (`Metadata.checkov.skip: [{id, comment}]`), so an exception sits
 * on the construct it concerns, like a cdk-nag acknowledgment, and never in a CI flag.
 */
export interface CheckovSkip {
  /** The check, e.g. `CKV_AWS_116`. */
  readonly id: string;
  /** Why it does not apply here (at least 40 characters: a reason, not a label). */
  readonly comment: string;
}

/** The metadata key checkov reads skips from. */
export const CHECKOV_METADATA_KEY = 'checkov';

/**
 * Declares checkov skips on `construct`'s CloudFormation resource (the construct itself when it is
 * one, else its default child). Skips already declared there are kept; the same id twice is refused.
 * @throws Error naming the construct when it has no CloudFormation resource, or when a skip has a bad
 *   id or too short a comment
 */
export function skipCheckov(construct: IConstruct, ...skips: readonly CheckovSkip[]): void {
  const resource =
    construct instanceof CfnResource
      ? construct
      : construct.node.defaultChild instanceof CfnResource
        ? construct.node.defaultChild
        : undefined;
  if (!resource) {
    throw new Error(
      `skipCheckov: ${construct.node.path} is not a CloudFormation resource and has no default child that is; pass the resource itself.`,
    );
  }
  const existing = (resource.getMetadata(CHECKOV_METADATA_KEY) as { skip?: CheckovSkip[] } | undefined)?.skip;
  const all = [...(existing ?? [])];
  for (const skip of skips) {
    if (!/^CKV2?_AWS_\d+$/.test(skip.id)) {
      throw new Error(
        `skipCheckov: ${construct.node.path}: "${skip.id}" is not a checkov AWS check id (CKV_AWS_<n> or CKV2_AWS_<n>).`,
      );
    }
    if (skip.comment.trim().length < 40) {
      throw new Error(
        `skipCheckov: ${construct.node.path} ${skip.id}: the comment "${skip.comment}" is too short to say why the check does not apply (40 characters at least).`,
      );
    }
    if (all.some((s) => s.id === skip.id)) {
      throw new Error(`skipCheckov: ${construct.node.path} already skips ${skip.id}.`);
    }
    all.push({ id: skip.id, comment: skip.comment });
  }
  resource.addMetadata(CHECKOV_METADATA_KEY, { skip: all });
}
