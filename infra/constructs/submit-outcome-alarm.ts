// The alarm behind SUBMIT_OUTCOME_UNKNOWN: a submit that may have reached Segmind without an answer may
// have created a job Segmind bills and we cannot see. Each one is counted by the Submit function (metric
// SubmitOutcomeUnknown, with its estimated price in SubmitOutcomeUnknownPossibleCostUsd); one is enough to
// alarm, since someone should compare Segmind's billing with the job table.
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  SUBMIT_OUTCOME_UNKNOWN_COST_METRIC,
  SUBMIT_OUTCOME_UNKNOWN_METRIC,
} from '#commons/metric-names';

export interface SubmitOutcomeAlarmProps {
  /** @default 5 minutes */
  readonly period?: Duration;
}

export class SubmitOutcomeAlarm extends Construct {
  readonly alarm: Alarm;
  /** Submits with an unknown outcome, summed over the period. */
  readonly unknownSubmits: Metric;
  /** What the jobs those submits may have created could cost, in US dollars, summed over the period. */
  readonly possibleCost: Metric;

  constructor(scope: Construct, id: string, props: SubmitOutcomeAlarmProps = {}) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const metric = (metricName: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: Stats.SUM,
        period,
      });
    this.unknownSubmits = metric(SUBMIT_OUTCOME_UNKNOWN_METRIC);
    this.possibleCost = metric(SUBMIT_OUTCOME_UNKNOWN_COST_METRIC);
    this.alarm = new Alarm(this, 'Alarm', {
      alarmDescription:
        'SUBMIT_OUTCOME_UNKNOWN: a Segmind submit got no answer after it was sent. Segmind may have billed a ' +
        'job we hold no request id for; the job ended SUBMIT_OUTCOME_UNKNOWN and was not submitted again. ' +
        'Compare Segmind billing with the jobs table (errorCode = SUBMIT_OUTCOME_UNKNOWN).',
      metric: this.unknownSubmits,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
