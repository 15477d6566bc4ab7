// Names of the environment variables the Lambdas read. Shared by infra/ (which sets them) and
// functions/ (which reads them), so the two cannot drift apart.
export const ENV = {
  jobsTable: 'JOBS_TABLE_NAME',
  videosBucket: 'VIDEOS_BUCKET_NAME',
  segmindBaseUrl: 'SEGMIND_BASE_URL',
  /** On AWS: the Secrets Manager secret holding the key. Locally: unset, and SEGMIND_API_KEY is used. */
  segmindApiKeySecret: 'SEGMIND_API_KEY_SECRET_NAME',
  segmindApiKey: 'SEGMIND_API_KEY',
  /** Milliseconds allowed to open the connection (DNS, TCP, TLS) to Segmind. */
  segmindConnectTimeoutMs: 'SEGMIND_CONNECT_TIMEOUT_MS',
  /** Milliseconds allowed from connection to the last byte of Segmind's answer. */
  segmindReadTimeoutMs: 'SEGMIND_READ_TIMEOUT_MS',
  /** Largest JSON answer from Segmind the client will read, in bytes. */
  segmindMaxResponseBytes: 'SEGMIND_MAX_RESPONSE_BYTES',
  /** The DynamoDB table of request budgets (one item per Segmind API key, keyed by its hash). */
  requestBudgetTable: 'REQUEST_BUDGET_TABLE_NAME',
  /** Segmind requests per minute per API key that every job together may make (the plan's limit). */
  segmindRequestsPerMinute: 'SEGMIND_REQUESTS_PER_MINUTE',
  /** Local stack only: how many times faster than real time the emulator's clock (and our waits) run. */
  timeScale: 'LTX_TIME_SCALE',
  /**
   * `host:port` list store-video may fetch videos from whatever they resolve to, even over http, besides
   * SEGMIND_BASE_URL's own host (always allowed): e.g. a proxy's file host. Unset on a plain deployment.
   */
  allowedVideoHosts: 'LTX_ALLOWED_VIDEO_HOSTS',
  /**
   * `host:port` list image URLs may name whatever they resolve to, even over http. Local stack only (its
   * s3rver, where uploaded images live); unset on AWS, where every image URL must be public https.
   */
  allowedImageHosts: 'LTX_ALLOWED_IMAGE_HOSTS',
  eventBusName: 'EVENT_BUS_NAME',
  /** The VideoJob state machine the entry points start executions of (execution name = job id). */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** API: how long a presigned download URL of a finished video stays valid, in seconds. */
  videoLinkTtlSeconds: 'VIDEO_LINK_TTL_SECONDS',
  /**
   * API: how callers authenticate — `iam`, `api-key`, or `none` (the local API without keys). With `none`, a
   * request that carries no identity is the one local user's and sees every job; otherwise it owns nothing.
   */
  apiAuth: 'API_AUTH',
  /** Local API: comma-separated API keys callers must send as x-api-key (`npm run dev -- --api-key`). */
  localApiKeys: 'LTX_API_KEYS',
  /** API: comma-separated origins allowed to call the API from a browser (`*` for any); unset = no CORS. */
  corsAllowOrigins: 'CORS_ALLOW_ORIGINS',
  /** Uploads: the key prefix images are dropped under (`uploads/`). */
  uploadsPrefix: 'UPLOADS_PREFIX',
  /** Uploads: the largest image accepted, in bytes. */
  uploadMaxImageBytes: 'UPLOAD_MAX_IMAGE_BYTES',
  /** Uploads: how long the presigned image URL handed to Segmind stays valid, in seconds. */
  uploadImageUrlTtlSeconds: 'UPLOAD_IMAGE_URL_TTL_SECONDS',
  /**
   * Submit: `true` lets a submit whose outcome is unknown (reset or timeout after sending, 502/504, a
   * non-JSON 5xx) be POSTed again by the workflow's retry — Segmind may then bill the job twice. Unset or
   * `false` (the default): such a job ends SUBMIT_OUTCOME_UNKNOWN and is never paid for twice.
   */
  resubmitUnknownOutcome: 'LTX_RESUBMIT_UNKNOWN_OUTCOME',
  /** Sweeper: seconds a job must have been left untouched before the sweeper looks at its execution. */
  sweepGraceSeconds: 'SWEEP_GRACE_SECONDS',
  /** Batches: the DynamoDB table of batch records (partition key `batchId`). */
  batchesTable: 'BATCHES_TABLE_NAME',
} as const;
