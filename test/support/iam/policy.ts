/**
 * The identity policies of a role as synthesized, and whether they allow an action on a resource:
 * every `AWS::IAM::Policy` of the stage attached to the role, the role's inline `Policies`, and
 * its managed policies when their document is known (customer managed ones of the stage, or AWS
 * managed ones passed in `known`); the others are listed, never guessed. Statements are evaluated
 * as IAM does for one identity policy set: a matching Deny wins, else a matching Allow allows.
 * Actions match case-insensitively, resources case-sensitively, both with `*` and `?` wildcards;
 * `NotAction` and `NotResource` are honoured. An Allow with a `Condition` is not taken as an allow:
 * the decision is `conditional`, with the conditions, for the caller to report.
 */
import { type CfnResource, type Resolved, type StageModel, UnsupportedTemplateError } from './cfn.ts';

export interface PolicyStatement {
  /** Where it comes from: `<stack>/<policy logical id>` or `managed:<arn>`. */
  readonly source: string;
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  readonly condition?: unknown;
}

export interface RolePolicies {
  readonly role: string;
  readonly statements: readonly PolicyStatement[];
  /** Managed policy ARNs attached to the role whose document is not known here. */
  readonly unresolvedManagedPolicies: readonly string[];
}

export type Decision =
  | { readonly decision: 'allowed'; readonly by: readonly PolicyStatement[] }
  | { readonly decision: 'conditional'; readonly by: readonly PolicyStatement[] }
  | { readonly decision: 'denied'; readonly by: readonly PolicyStatement[] }
  | { readonly decision: 'not-allowed' };

const list = (r: Resolved | undefined): string[] | undefined => {
  if (r === undefined) return undefined;
  if (typeof r === 'string') return [r];
  return r.map((x) => {
    if (typeof x !== 'string') throw new UnsupportedTemplateError('nested list in a policy statement');
    return x;
  });
};

/** Statements of a policy document, resolved in `stack`. */
export function documentStatements(
  model: StageModel,
  stack: string,
  source: string,
  document: unknown,
): PolicyStatement[] {
  const doc = document as { Statement?: unknown };
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return raw.map((s, index) => {
    const st = s as Record<string, unknown>;
    const effect = st['Effect'];
    if (effect !== 'Allow' && effect !== 'Deny')
      throw new UnsupportedTemplateError(`${source} statement ${index}: Effect ${String(effect)}`);
    const field = (name: string) =>
      st[name] === undefined ? undefined : list(model.resolve(stack, st[name]));
    const actions = field('Action');
    const notActions = field('NotAction');
    const resources = field('Resource');
    const notResources = field('NotResource');
    return {
      source,
      index,
      effect,
      ...(typeof st['Sid'] === 'string' ? { sid: st['Sid'] } : {}),
      ...(actions ? { actions } : {}),
      ...(notActions ? { notActions } : {}),
      ...(resources ? { resources } : {}),
      ...(notResources ? { notResources } : {}),
      ...(st['Condition'] === undefined ? {} : { condition: st['Condition'] }),
    };
  });
}

/**
 * The policies of role `roleLogicalId` of `stack`.
 * @param known documents of AWS managed policies by ARN (with the partition as the model resolves it)
 */
export function rolePolicies(
  model: StageModel,
  stack: string,
  roleLogicalId: string,
  known: Readonly<Record<string, unknown>> = {},
): RolePolicies {
  const role = model.resource(stack, roleLogicalId);
  if (role.Type !== 'AWS::IAM::Role') throw new UnsupportedTemplateError(`${roleLogicalId} is not a role`);
  const roleName = model.resolveString(stack, { Ref: roleLogicalId });
  const statements: PolicyStatement[] = [];
  const props = role.Properties ?? {};
  for (const [i, p] of ((props['Policies'] as { PolicyDocument: unknown }[] | undefined) ?? []).entries()) {
    statements.push(
      ...documentStatements(model, stack, `${stack}/${roleLogicalId}/Policies/${i}`, p.PolicyDocument),
    );
  }
  for (const { stack: s, logicalId, resource } of model.resourcesOfType('AWS::IAM::Policy')) {
    const roles = list(model.resolve(s, resource.Properties?.['Roles'] ?? [])) ?? [];
    if (!roles.includes(roleName)) continue;
    statements.push(
      ...documentStatements(model, s, `${s}/${logicalId}`, resource.Properties?.['PolicyDocument']),
    );
  }
  const managedByArn = new Map<string, { stack: string; logicalId: string; resource: CfnResource }>();
  for (const m of model.resourcesOfType('AWS::IAM::ManagedPolicy')) {
    managedByArn.set(model.resolveString(m.stack, { Ref: m.logicalId }), m);
  }
  const unresolved: string[] = [];
  for (const arn of list(model.resolve(stack, props['ManagedPolicyArns'] ?? [])) ?? []) {
    const own = managedByArn.get(arn);
    if (own) {
      statements.push(
        ...documentStatements(
          model,
          own.stack,
          `${own.stack}/${own.logicalId}`,
          own.resource.Properties?.['PolicyDocument'],
        ),
      );
    } else if (known[arn] !== undefined) {
      statements.push(...documentStatements(model, stack, `managed:${arn}`, known[arn]));
    } else {
      unresolved.push(arn);
    }
  }
  return { role: `${stack}/${roleLogicalId}`, statements, unresolvedManagedPolicies: unresolved };
}

/** IAM wildcard match: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    ignoreCase ? 'is' : 's',
  );
  return re.test(value);
}

/** Whether the statement applies to the action and resource (conditions aside). */
export function statementMatches(s: PolicyStatement, action: string, resource: string): boolean {
  const actionOk = s.actions
    ? s.actions.some((p) => wildcardMatch(p, action, true))
    : s.notActions
      ? !s.notActions.some((p) => wildcardMatch(p, action, true))
      : false;
  if (!actionOk) return false;
  if (s.resources) return s.resources.some((p) => wildcardMatch(p, resource));
  if (s.notResources) return !s.notResources.some((p) => wildcardMatch(p, resource));
  return false;
}

export function evaluate(policies: RolePolicies, action: string, resource: string): Decision {
  const matching = policies.statements.filter((s) => statementMatches(s, action, resource));
  const denies = matching.filter((s) => s.effect === 'Deny');
  if (denies.length > 0) return { decision: 'denied', by: denies };
  const allows = matching.filter((s) => s.effect === 'Allow');
  const unconditional = allows.filter((s) => s.condition === undefined);
  if (unconditional.length > 0) return { decision: 'allowed', by: unconditional };
  if (allows.length > 0) return { decision: 'conditional', by: allows };
  return { decision: 'not-allowed' };
}

/**
 * The (action pattern, resource pattern) pairs of Allow statements that no needed permission
 * matched: granted, never used by a recorded call. Informational: a grant may serve a call not
 * recorded locally (the MSK event source mapping's own, CloudWatch Logs, X-Ray, ENIs).
 */
export function unusedGrants(
  policies: RolePolicies,
  needed: ReadonlyArray<{ readonly action: string; readonly resource: string }>,
): { source: string; action: string; resource: string }[] {
  const out: { source: string; action: string; resource: string }[] = [];
  for (const s of policies.statements) {
    if (s.effect !== 'Allow' || !s.actions || !s.resources) continue;
    for (const a of s.actions) {
      for (const r of s.resources) {
        const used = needed.some((n) => wildcardMatch(a, n.action, true) && wildcardMatch(r, n.resource));
        if (!used) out.push({ source: s.source, action: a, resource: r });
      }
    }
  }
  return out;
}
