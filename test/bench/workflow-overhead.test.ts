import { describe, expect, it } from 'vitest';
import { AWS_PRICES, GB } from '#bench/pricing';
import {
  dynamoItemBytes,
  LAMBDA_PLATFORM_LOG_BYTES,
  type MeasuredJob,
  readUnits,
  STEP_FUNCTIONS_LOG_ENVELOPE_BYTES,
  stepFunctionsLogBytes,
  storeVideoS3Requests,
  type Usage,
  usageAt,
  usageModelOf,
  workflowCost,
  workflowOverheadReport,
  writeUnits,
} from '#bench/workflow-overhead';

/** A default job that took 4 polls, as measureDefaultJob reports it. */
const measured: MeasuredJob = {
  status: 'COMPLETED',
  polls: 4,
  stateTransitions: 18,
  retries: 0,
  statesEntered: {
    Submit: 1,
    WaitForFirstPoll: 1,
    PollStatus: 4,
    IsVideoReady: 4,
    WaitForNextPoll: 3,
    FetchResult: 1,
    StoreVideo: 1,
    RecordCompletion: 1,
    PublishSucceeded: 1,
    VideoStored: 1,
  },
  lambdaInvocations: { submit: 1, 'poll-status': 4, 'fetch-result': 1, 'store-video': 1 },
  localLambdaMs: { submit: [20], 'poll-status': [5, 3, 4, 8], 'fetch-result': [15], 'store-video': [40] },
  dynamodbWrites: 7,
  dynamodbRequests: { PutItem: 1, UpdateItem: 6, GetItem: 1 },
  itemBytes: 935,
  statusChanges: 4,
  s3Requests: { PUT: 2, DELETE: 1 },
  segmindRequests: { submit: 1, status: 4, result: 1, download: 1, total: 7 },
  videoBytes: 301_606,
  serviceCalls: { 'dynamodb:updateItem': 1, 'events:putEvents': 1 },
  stepFunctionsLogBytes: { fixed: 30_000, poll: 32_000 },
  lambdaAppLogBytes: { submit: 1000, 'poll-status': 2000, 'fetch-result': 600, 'store-video': 600 },
  segmindCostUsd: 0.5,
};

const memoryMb = {
  submit: 256,
  'poll-status': 256,
  'fetch-result': 256,
  'store-video': 1024,
  'record-failure': 256,
};

describe('usageModelOf: a fixed part and a part per status poll', () => {
  const model = usageModelOf(measured);

  it('puts Wait, PollStatus and Choice in the per-poll part, everything else in the fixed part', () => {
    expect(model.perPoll.stateTransitions).toBe(3);
    expect(model.fixed.stateTransitions).toBe(6);
    expect(model.perPoll.lambdaInvocations).toEqual({ 'poll-status': 1 });
    expect(model.fixed.lambdaInvocations).toEqual({ submit: 1, 'fetch-result': 1, 'store-video': 1 });
    expect(model.perPoll.segmindRequests).toBe(1);
    expect(model.fixed.segmindRequests).toBe(2);
  });

  it('reproduces the measured job at its own poll count', () => {
    const again = usageAt(model, measured.polls);
    expect(again.stateTransitions).toBe(measured.stateTransitions);
    expect(again.lambdaInvocations['poll-status']).toBe(4);
    expect(again.segmindRequests).toBe(6);
    expect(again.stepFunctionsLogBytes).toBe(62_000);
  });

  it('charges DynamoDB per write, once in the table and once (twice on a status change) in the index', () => {
    // 7 table writes + 7 index writes + 4 index moves, 1 WRU each for a 935-byte item.
    expect(model.fixed.dynamodbWriteUnits).toBe(18);
    expect(model.perPoll.dynamodbWriteUnits).toBe(0);
    expect(model.fixed.dynamodbReadUnits).toBe(1);
  });

  it('adds the platform log lines to every invocation', () => {
    expect(model.perPoll.lambdaLogBytes).toBe(2000 / 4 + LAMBDA_PLATFORM_LOG_BYTES);
    expect(model.fixed.lambdaLogBytes).toBe(2200 + 3 * LAMBDA_PLATFORM_LOG_BYTES);
  });

  it("writes the SDK's 2 s cadence for a 47 s job as about 78 state transitions", () => {
    expect(usageAt(model, 24).stateTransitions).toBe(78);
    expect(usageAt(model, 5).stateTransitions).toBe(21);
  });
});

describe('workflowCost', () => {
  const usage: Usage = {
    stateTransitions: 21,
    lambdaInvocations: { submit: 1, 'poll-status': 5, 'store-video': 1 },
    dynamodbWriteUnits: 18,
    dynamodbReadUnits: 1,
    s3PutClassRequests: 6,
    s3GetClassRequests: 0,
    eventBridgeEvents: 1,
    stepFunctionsLogBytes: GB / 1000,
    lambdaLogBytes: 0,
    segmindRequests: 7,
    xrayTraces: 1,
  };
  const lambdas = {
    submit: { memoryMb: 256, billedMs: 400 },
    'poll-status': { memoryMb: 256, billedMs: 200 },
    'store-video': { memoryMb: 1024, billedMs: 1500 },
  };
  const cost = workflowCost(usage, lambdas, AWS_PRICES, 2 * GB);
  const line = (prefix: string) => cost.lines.find((l) => l.item.startsWith(prefix));

  it('prices each item as quantity × unit price', () => {
    expect(line('Step Functions')?.usd).toBeCloseTo(21 * 0.000025, 12);
    expect(line('Lambda requests')?.usd).toBeCloseTo(7 * 0.0000002, 12);
    // 0.25 GB × 0.4 s + 5 × 0.25 GB × 0.2 s + 1 GB × 1.5 s = 1.85 GB-s
    expect(line('Lambda arm64')?.quantity).toBeCloseTo(1.85, 12);
    expect(line('DynamoDB on-demand writes')?.usd).toBeCloseTo(18 * 0.625e-6, 15);
    expect(line('S3 PUT')?.usd).toBeCloseTo(6 * 0.000005, 12);
    expect(line('CloudWatch Logs: Step Functions')?.usd).toBeCloseTo(0.5 / 1000, 12);
    expect(line('X-Ray')?.usd).toBeCloseTo(0.000005, 12);
  });

  it('totals the lines and keeps storage (a monthly cost) apart', () => {
    expect(cost.totalUsd).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.usd, 0),
      15,
    );
    expect(cost.storagePerMonthUsd).toBeCloseTo(2 * 0.023, 12);
  });

  it('refuses a handler whose memory or duration it does not know', () => {
    expect(() =>
      workflowCost({ ...usage, lambdaInvocations: { mystery: 1 } }, lambdas, AWS_PRICES, 0),
    ).toThrow(/mystery/);
  });
});

describe('storeVideoS3Requests', () => {
  it('is one PutObject and one CopyObject for a video that fits one part', () => {
    expect(storeVideoS3Requests(301_606)).toEqual({ putClass: 2, deletes: 1 });
  });

  it('is a multipart upload (create, parts, complete) and a CopyObject beyond one part', () => {
    // 18.7 MB in 8 MiB parts: 3 parts.
    expect(storeVideoS3Requests(18_734_112)).toEqual({ putClass: 6, deletes: 1 });
  });
});

describe('DynamoDB units', () => {
  it('sizes an item by attribute names and values', () => {
    expect(dynamoItemBytes({ jobId: { S: 'abc' }, status: { S: 'COMPLETED' } })).toBe(5 + 3 + 6 + 9);
    expect(dynamoItemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(dynamoItemBytes({ m: { M: { a: { BOOL: true } } } })).toBe(1 + 3 + 2 + 1);
  });

  it('rounds writes up per KB and strongly consistent reads per 4 KB', () => {
    expect(writeUnits(935)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(readUnits(935)).toBe(1);
    expect(readUnits(4097)).toBe(2);
  });
});

describe('stepFunctionsLogBytes', () => {
  const envelope = STEP_FUNCTIONS_LOG_ENVELOPE_BYTES;
  const input = { jobId: 'j' };
  const size = JSON.stringify(input).length;

  it('logs a Task as entered, scheduled and started on the way in, succeeded and exited on the way out', () => {
    expect(
      stepFunctionsLogBytes({
        type: 'StateEntered',
        timestamp: 0,
        state: { name: 'T', type: 'Task', input },
      }),
    ).toBe(3 * envelope + 2 * size);
    expect(
      stepFunctionsLogBytes({
        type: 'StateExited',
        timestamp: 0,
        state: { name: 'T', type: 'Task', output: input },
      }),
    ).toBe(2 * envelope + 2 * size);
  });

  it('logs other states once each way', () => {
    expect(
      stepFunctionsLogBytes({
        type: 'StateEntered',
        timestamp: 0,
        state: { name: 'W', type: 'Wait', input },
      }),
    ).toBe(envelope + size);
  });
});

describe('workflowOverheadReport', () => {
  const report = workflowOverheadReport(measured, {
    memoryMb,
    prices: AWS_PRICES,
    typicalPolls: 5,
    twoSecondLoopPolls: 24,
    segmindPriceRangeUsd: [0.3, 2],
  });

  it('judges the transitions target on the per-poll and fixed parts', () => {
    expect(report.targets).toEqual({ perPollTransitions: 3, fixedTransitions: 6, met: true });
  });

  it('prices the measured job, the typical job and the 2 s loop with the same model', () => {
    expect(report.scenarios.map((s) => s.usage.stateTransitions)).toEqual([18, 21, 78]);
    const [, typical, loop] = report.scenarios;
    expect(loop?.cost.totalUsd ?? 0).toBeGreaterThan(typical?.cost.totalUsd ?? 0);
  });

  it("keeps Segmind's price out of the AWS total and reports it apart", () => {
    expect(report.segmind).toEqual({ metricsCostUsd: 0.5, priceRangeUsd: [0.3, 2] });
    expect(report.scenarios[1]?.cost.totalUsd).toBeLessThan(0.01);
  });
});
