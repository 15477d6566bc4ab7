// Public AWS list prices the workflow-overhead part multiplies by (us-east-1, on-demand, no free tier).
// They are written down here, once, so the report can print exactly what it assumed; check them against
// https://aws.amazon.com/<service>/pricing/ before quoting the figures, since prices move.

export interface AwsPrices {
  region: string;
  /** When these list prices were read off the public pricing pages. */
  asOf: string;
  /** Step Functions Standard: per state transition ($0.025 per 1,000). */
  stepFunctionsPerTransition: number;
  /** Lambda on arm64 (Graviton): per GB-second of billed duration (first 7.5 billion GB-s a month). */
  lambdaArmPerGbSecond: number;
  /** Lambda: per request ($0.20 per million). */
  lambdaPerRequest: number;
  /** DynamoDB on-demand, Standard table class: per write request unit ($0.625 per million). */
  dynamodbPerWriteUnit: number;
  /** DynamoDB on-demand: per read request unit ($0.125 per million). */
  dynamodbPerReadUnit: number;
  /** S3 Standard: PUT, COPY, POST, LIST requests ($0.005 per 1,000); multipart parts count one each. */
  s3PerPutClassRequest: number;
  /** S3 Standard: GET, HEAD and other requests ($0.0004 per 1,000). DELETE is free. */
  s3PerGetClassRequest: number;
  /** S3 Standard storage, first 50 TB: per GB-month. */
  s3StandardPerGbMonth: number;
  /** EventBridge: per custom event published with PutEvents (per 64 KB chunk, $1.00 per million). */
  eventBridgePerEvent: number;
  /** CloudWatch Logs, Standard log class: per GB ingested (vended logs, first 10 TB, are the same price). */
  cloudWatchLogsPerGbIngested: number;
  /** X-Ray: per trace recorded ($5.00 per million). */
  xrayPerTraceRecorded: number;
  /** Secrets Manager: per API call ($0.05 per 10,000). */
  secretsManagerPerCall: number;
  /** Secrets Manager: per secret-month (a fixed cost, not per video). */
  secretsManagerPerSecretMonth: number;
}

export const AWS_PRICES: AwsPrices = Object.freeze({
  region: 'us-east-1',
  asOf: '2025 public price lists',
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1_000_000,
  dynamodbPerWriteUnit: 0.625 / 1_000_000,
  dynamodbPerReadUnit: 0.125 / 1_000_000,
  s3PerPutClassRequest: 0.005 / 1000,
  s3PerGetClassRequest: 0.0004 / 1000,
  s3StandardPerGbMonth: 0.023,
  eventBridgePerEvent: 1 / 1_000_000,
  cloudWatchLogsPerGbIngested: 0.5,
  xrayPerTraceRecorded: 5 / 1_000_000,
  secretsManagerPerCall: 0.05 / 10_000,
  secretsManagerPerSecretMonth: 0.4,
});

/** Segmind's price for one ltx-2-fast generation, from its model page (SEGMIND_API.md). */
export const SEGMIND_PRICE_RANGE_USD: readonly [number, number] = Object.freeze([0.3, 2]) as readonly [
  number,
  number,
];

/** CloudWatch Logs bills 1 GB as 2^30 bytes. */
export const GB = 1024 ** 3;
