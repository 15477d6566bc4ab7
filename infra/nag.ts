// `npm run nag [-- -c key=value]`: cdk-nag's AwsSolutions and Serverless packs over the synthesized app —
// what they find, which findings the constructs acknowledge (each with its reason, in code), and what is
// left. Exit code 1 when a finding is unacknowledged; an acknowledgement that no longer matches any finding
// is printed as a warning (remove it: it would hide a future finding of the same id).
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type App, type PolicyViolation, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildApp } from '#infra/stack';

export interface Acknowledgement {
  /** The finding id, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  id: string;
  reason: string;
  /** The construct the acknowledgement is attached to (it covers that construct and everything under it). */
  path: string;
}

export interface NagAudit {
  packs: string[];
  /** Every finding the packs made, acknowledged or not: rule id and resource path. */
  findings: { id: string; path: string; acknowledged: boolean }[];
  /** What the packs report as violations: findings nobody acknowledged. */
  unacknowledged: PolicyViolation[];
  acknowledgements: Acknowledgement[];
  /** Acknowledgements no finding matched: dead text that would hide a future finding of the same id. */
  unused: Acknowledgement[];
}

const ACK_PREFIX = /^annotation::/i;

/** Every acknowledgement recorded in the app's constructs (Validations.of(x).acknowledge). */
export const acknowledgementsOf = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, unknown>))
      .map(([id, reason]) => ({
        id: id.replace(ACK_PREFIX, ''),
        reason: String(reason),
        path: construct.node.path,
      })),
  );

/**
 * Runs both packs over a synthesized app. Each pack asks, per finding, whether the resource or one of its
 * scopes acknowledges it; recording those answers gives the acknowledged findings the pack's own report
 * leaves out.
 */
export const auditNag = (app: App): NagAudit => {
  const packs: NagPack[] = [new AwsSolutionsChecks(), new ServerlessChecks()];
  const findings: NagAudit['findings'] = [];
  const unacknowledged: PolicyViolation[] = [];
  for (const pack of packs) {
    const isAcknowledged = Reflect.get(pack, 'isAcknowledged') as (
      resource: IConstruct,
      id: string,
    ) => boolean;
    Object.defineProperty(pack, 'isAcknowledged', {
      value: (resource: IConstruct, id: string): boolean => {
        const acknowledged = isAcknowledged.call(pack, resource, id);
        findings.push({ id, path: resource.node.path, acknowledged });
        return acknowledged;
      },
    });
    unacknowledged.push(...pack.validateScope(app).violations);
  }
  const acknowledgements = acknowledgementsOf(app);
  const covers = (ack: Acknowledgement, finding: NagAudit['findings'][number]) =>
    finding.acknowledged &&
    finding.id === ack.id &&
    (finding.path === ack.path || finding.path.startsWith(`${ack.path}/`));
  return {
    packs: packs.map((pack) => pack.readPackName),
    findings,
    unacknowledged,
    acknowledgements,
    unused: acknowledgements.filter((ack) => !findings.some((finding) => covers(ack, finding))),
  };
};

/** One line per figure, then the details an operator acts on. */
export const describeAudit = (audit: NagAudit): string[] => {
  const acknowledged = audit.findings.filter((finding) => finding.acknowledged).length;
  const unacknowledged = audit.unacknowledged.flatMap((v) =>
    v.violatingResources.map(() => v.ruleName),
  ).length;
  return [
    `cdk-nag packs: ${audit.packs.join(', ')}`,
    `findings: ${audit.findings.length} (${acknowledged} acknowledged, ${unacknowledged} unacknowledged)`,
    `acknowledgements: ${audit.acknowledgements.length}, each with its reason in code; unused: ${audit.unused.length}`,
    ...audit.unacknowledged.flatMap((violation) =>
      violation.violatingResources.map(
        (resource) =>
          `  UNACKNOWLEDGED ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
      ),
    ),
    ...audit.unused.map((ack) => `  warning: UNUSED acknowledgement ${ack.id} at ${ack.path}`),
  ];
};

const main = (): number => {
  const { values } = parseArgs({
    options: { context: { type: 'string', short: 'c', multiple: true } },
    strict: true,
  });
  const context = Object.fromEntries(
    (values.context ?? []).map((entry) => {
      const [key = '', ...value] = entry.split('=');
      return [key, value.join('=')];
    }),
  );
  const { app } = buildApp({ bundling: false, context, cloudFormationValidation: false });
  app.synth();
  const audit = auditNag(app);
  for (const line of describeAudit(audit)) console.log(line);
  return audit.unacknowledged.length === 0 ? 0 : 1;
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main();
}
