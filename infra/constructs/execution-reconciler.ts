// The backstop behind "every job ends in exactly one terminal status": when a VideoJob execution stops
// where no Catch runs (its own time limit, a StopExecution from outside, a Fail after RecordFailure itself
// failed), Step Functions' status-change event reaches a small function that ends the job if it is still
// open. Events that cannot be delivered, or keep failing, wait in a dead-letter queue.
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '#commons/env';
import { RECONCILED_EXECUTION_STATUSES } from '#domain/reconcile-execution';
import { handlerEntry } from '#infra/constructs/handlers';
import { VideoFunction } from '#infra/constructs/video-function';

/** The handler module, for the local runner that delivers the same event to it. */
export const RECONCILE_EXECUTION_HANDLER = 'reconcile-execution';

/** What Step Functions publishes, on the default bus, whenever an execution changes status. */
export const EXECUTION_STATUS_CHANGE = {
  source: 'aws.states',
  detailType: 'Step Functions Execution Status Change',
} as const;

export interface ExecutionReconcilerProps {
  /** The VideoJob state machine: its executions are named after their job. */
  readonly stateMachine: IStateMachine;
  readonly jobs: ITable;
}

export class ExecutionReconciler extends Construct {
  readonly function: VideoFunction;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ExecutionReconcilerProps) {
    super(scope, id);
    const { stateMachine, jobs } = props;

    // One queue for both ways an event can be lost: EventBridge failing to hand it to Lambda (the rule
    // target's DLQ) and the function failing on it after Lambda's own retries (the function's DLQ).
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the dead-letter queue of the reconciler (rule target and function); ' +
        'a redrive policy on it would only move the same events one queue further.',
    });

    this.function = new VideoFunction(this, 'ReconcileFunction', {
      entry: handlerEntry(RECONCILE_EXECUTION_HANDLER),
      description: 'VideoJob: end the job of an execution that stopped without ending it',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { [ENV.jobsTable]: jobs.tableName },
      deadLetterQueue: this.deadLetterQueue,
    });
    // Read the record, then one conditional update (a failure, or a cancel): the item, not the indexes.
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resourceArns: [jobs.tableArn],
    });

    this.rule = new Rule(this, 'ExecutionStopped', {
      description: 'VideoJob executions that ended FAILED, TIMED_OUT or ABORTED, to end any job left open',
      eventPattern: {
        source: [EXECUTION_STATUS_CHANGE.source],
        detailType: [EXECUTION_STATUS_CHANGE.detailType],
        detail: {
          status: [...RECONCILED_EXECUTION_STATUSES],
          stateMachineArn: [stateMachine.stateMachineArn],
        },
      },
      targets: [
        new LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          // Delivery retries; the handler is idempotent, so a repeat is harmless.
          retryAttempts: 20,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
