// The sweeper behind "no job stays open for ever": on a schedule, a small function looks for jobs no
// execution is driving — the entry point died between the record's PutItem and StartExecution, or an
// execution died without ending its job — and starts or resumes their workflow (#domain/sweep-jobs).
// The execution reconciler handles executions that end with an event; this catches what no event reports.
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_SWEEP_GRACE_SECONDS } from '#commons/config';
import { ENV } from '#commons/env';
import { handlerEntry } from '#infra/constructs/handlers';
import { JOB_INDEXES } from '#infra/constructs/storage';
import { VideoFunction } from '#infra/constructs/video-function';

/** The handler module, for the local runner that sweeps with the same use case. */
export const SWEEP_JOBS_HANDLER = 'sweep-jobs';
/** The schedule rule's description: how the local scheduler finds the rule (and its rate) in the template. */
export const SWEEP_RULE_DESCRIPTION = 'Sweep VideoJob jobs that no execution is driving';

export interface JobSweeperProps {
  /** The VideoJob state machine the jobs' executions belong to. */
  readonly stateMachine: IStateMachine;
  readonly jobs: ITable;
  /** How often the sweep runs. @default every 5 minutes */
  readonly schedule?: Schedule;
  /** How long a job must have been left untouched before it is looked at. @default 5 minutes */
  readonly grace?: Duration;
}

export class JobSweeper extends Construct {
  readonly function: VideoFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: JobSweeperProps) {
    super(scope, id);
    const { stateMachine, jobs } = props;
    const grace = props.grace ?? Duration.seconds(DEFAULT_SWEEP_GRACE_SECONDS);

    this.function = new VideoFunction(this, 'SweepFunction', {
      entry: handlerEntry(SWEEP_JOBS_HANDLER),
      description: 'VideoJob: start or resume the workflow of jobs no execution is driving',
      memorySize: 256,
      timeout: Duration.minutes(2),
      environment: {
        [ENV.jobsTable]: jobs.tableName,
        [ENV.stateMachineArn]: stateMachine.stateMachineArn,
        [ENV.sweepGraceSeconds]: String(grace.toSeconds()),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by its schedule, with an empty event: a failed sweep has nothing to keep, and the next ' +
        'run sweeps the same jobs again.',
    });
    // Lists open jobs on the status index; claims a resume or ends a job with one conditional update.
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${jobs.tableArn}/index/${JOB_INDEXES.byStatus}`],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [jobs.tableArn],
      }),
    );
    stateMachine.grantStartExecution(this.function);
    stateMachine.grantExecution(this.function, 'states:DescribeExecution');
    const element = stateMachine.node.defaultChild;
    if (element instanceof CfnElement) {
      const smId = Stack.of(stateMachine).getLogicalId(element);
      Validations.of(this.function.role ?? this.function).acknowledge({
        id:
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:' +
          `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${smId}"}]}]}:*]`,
        reason:
          'DescribeExecution on the executions of the VideoJob state machine: one per job, named at run time.',
      });
    }

    this.rule = new Rule(this, 'Schedule', {
      description: SWEEP_RULE_DESCRIPTION,
      schedule: props.schedule ?? Schedule.rate(Duration.minutes(5)),
      // One sweep at a time is enough; a missed one is made up by the next.
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
    Validations.of(this.rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason: 'A scheduled tick carries no data: an undelivered one is replaced by the next, minutes later.',
    });
  }
}
