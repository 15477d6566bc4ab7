// The SUBMIT_OUTCOME_UNKNOWN alarm as synthesized in the real app: it watches the very metric the Submit
// function publishes (namespace, name and the service dimension Powertools adds) and fires on the first one.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  SUBMIT_OUTCOME_UNKNOWN_COST_METRIC,
  SUBMIT_OUTCOME_UNKNOWN_METRIC,
} from '#commons/metric-names';
import { metrics } from '#commons/powertools';
import {
  type AssemblyRoot,
  assemblyRoot,
  logicalIdOf,
  type SynthesizedApp,
  synthApp,
} from '#test/infra/support/cdk';

let root: AssemblyRoot;
let app: SynthesizedApp;

beforeAll(() => {
  root = assemblyRoot();
  app = synthApp(root);
});
afterAll(() => root.cleanup());

describe('the SUBMIT_OUTCOME_UNKNOWN alarm', () => {
  it('fires on one unknown submit within five minutes, and is quiet without data', () => {
    app.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: SUBMIT_OUTCOME_UNKNOWN_METRIC,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('Segmind may have billed'),
    });
    expect(logicalIdOf(app, app.stack.submitOutcomeAlarm.alarm)).toMatch(/SubmitOutcomeUnknown/);
  });

  it('watches what the Lambdas publish: the same namespace and service dimension', () => {
    const published = JSON.parse(
      JSON.stringify(
        (() => {
          const single = metrics.singleMetric();
          single.addMetric(SUBMIT_OUTCOME_UNKNOWN_METRIC, 'Count', 1);
          return single.serializeMetrics();
        })(),
      ),
    ) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }; service: string };
    const [directive] = published._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(published.service).toBe(SERVICE_NAME);
    // The cost metric sits beside it, for a dashboard or a second alarm on money rather than count.
    expect(app.stack.submitOutcomeAlarm.possibleCost.metricName).toBe(SUBMIT_OUTCOME_UNKNOWN_COST_METRIC);
  });
});
