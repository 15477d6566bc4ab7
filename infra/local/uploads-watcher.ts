// S3 → EventBridge → the upload Lambda, on the local stack. s3rver tells us about new objects in-process;
// each is turned into the EventBridge "Object Created" event S3 sends on AWS, filtered by the same key
// patterns as the rule, and handed to the same handler code (functions/start-from-upload) with the local
// workflow. Events are handled one at a time, in the order s3rver reported them.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { S3UploadObjects } from '#adapters/upload-objects';
import { matchesUploadKey, type ObjectCreatedEvent, type UploadOutcome } from '#domain/upload-job';
import type { DevService } from '#local/dev';
import type { LocalStack } from '#local/stack';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '#local/template';

/** The S3 event notification s3rver emits (the shape S3 sends to SQS/SNS/Lambda), as far as we read it. */
const s3NotificationSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      eventTime: z.string().optional(),
      awsRegion: z.string().optional(),
      requestParameters: z.object({ sourceIPAddress: z.string().optional() }).optional(),
      responseElements: z.object({ 'x-amz-request-id': z.string().optional() }).optional(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({
          key: z.string(),
          size: z.number().optional(),
          eTag: z.string().optional(),
          versionId: z.string().optional(),
          sequencer: z.string().optional(),
        }),
      }),
    }),
  ),
});

/** What S3 puts in EventBridge's `detail.reason` for each way an object is created. */
const REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  // s3rver reports both a completed multipart upload and a browser POST as Post; the CLI's is the former.
  'ObjectCreated:Post': 'CompleteMultipartUpload',
  'ObjectCreated:Copy': 'CopyObject',
};

/**
 * An S3 notification (s3rver's) as the EventBridge events S3 would have sent for it: one per record,
 * "Object Created" only, the key as is (EventBridge does not URL-encode it).
 */
export const toObjectCreatedEvents = (
  notification: unknown,
  { account = LOCAL_ACCOUNT, region = LOCAL_REGION }: { account?: string; region?: string } = {},
): ObjectCreatedEvent[] => {
  const parsed = s3NotificationSchema.safeParse(notification);
  if (!parsed.success) return [];
  return parsed.data.Records.flatMap((record) => {
    if (!record.eventName.startsWith('ObjectCreated:')) return [];
    const { bucket, object } = record.s3;
    return [
      {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Object Created',
        source: 'aws.s3',
        account,
        time: record.eventTime ?? new Date().toISOString(),
        region: record.awsRegion ?? region,
        resources: [`arn:aws:s3:::${bucket.name}`],
        detail: {
          version: '0',
          bucket: { name: bucket.name },
          object: {
            key: object.key,
            ...(object.size === undefined ? {} : { size: object.size }),
            ...(object.eTag === undefined ? {} : { etag: object.eTag }),
            ...(object.versionId === undefined ? {} : { 'version-id': object.versionId }),
            ...(object.sequencer === undefined ? {} : { sequencer: object.sequencer }),
          },
          'request-id': record.responseElements?.['x-amz-request-id'] ?? randomUUID(),
          requester: account,
          'source-ip-address': record.requestParameters?.sourceIPAddress ?? '127.0.0.1',
          reason: REASONS[record.eventName] ?? record.eventName,
        },
      } satisfies ObjectCreatedEvent,
    ];
  });
};

export interface UploadsWatcherOptions {
  /** The bucket to watch. @default the local stack's uploads bucket */
  bucket?: string;
  /** Told what came of each event (a job started, a FAILED record, nothing to do). */
  onOutcome?: (outcome: UploadOutcome, event: ObjectCreatedEvent) => void;
  /** Told when the handler threw (on AWS: retried, then the DLQ). @default a process warning */
  onError?: (error: unknown, event: ObjectCreatedEvent) => void;
}

export interface UploadsWatcher {
  readonly bucket: string;
  readonly prefix: string;
  /** Hands an event to the handler, as EventBridge delivers it to the rule's target (again, if you like). */
  deliver(event: ObjectCreatedEvent): Promise<UploadOutcome>;
  /** Every event delivered so far, oldest first. */
  delivered(): readonly ObjectCreatedEvent[];
  /** Resolves once every event so far is handled and every execution they started has ended. */
  idle(): Promise<void>;
  /** Stops listening and waits for the events already taken; running executions are the stack's to stop. */
  stop(): Promise<void>;
}

type WatchedStack = Pick<LocalStack, 's3' | 'jobs' | 'workflow'>;

/**
 * Starts turning uploads into jobs. Call it after startLocalStack(): the handler module reads its
 * configuration (the template's environment, which the stack has set) when first loaded.
 */
export const startUploadsWatcher = async (
  stack: WatchedStack,
  options: UploadsWatcherOptions = {},
): Promise<UploadsWatcher> => {
  const { uploadEventHandler, parseUploadPolicy } = await import('#functions/start-from-upload');
  const policy = parseUploadPolicy(process.env);
  const handle = uploadEventHandler(
    {
      jobs: stack.jobs,
      workflow: stack.workflow,
      objects: new S3UploadObjects(stack.s3.client),
      now: () => new Date(),
    },
    policy,
  );
  const bucket = options.bucket ?? stack.s3.uploadsBucket;
  const onError =
    options.onError ??
    ((error: unknown, event: ObjectCreatedEvent) =>
      process.emitWarning(
        `upload s3://${event.detail.bucket.name}/${event.detail.object.key} failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      ));

  const delivered: ObjectCreatedEvent[] = [];
  const started = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();

  const deliver = (event: ObjectCreatedEvent): Promise<UploadOutcome> => {
    delivered.push(event);
    const handled = queue.then(() => handle(event));
    queue = handled.then(
      (outcome) => {
        if (outcome.action === 'started') started.add(outcome.jobId);
        options.onOutcome?.(outcome, event);
      },
      (error: unknown) => onError(error, event),
    );
    return handled;
  };

  const unsubscribe = stack.s3.onEvent((notification) => {
    for (const event of toObjectCreatedEvents(notification)) {
      // The rule's filter: this bucket, image and sidecar keys under the prefix.
      if (event.detail.bucket.name !== bucket || !matchesUploadKey(event.detail.object.key, policy.prefix)) {
        continue;
      }
      // The outcome and any error reach onOutcome/onError through the queue.
      deliver(event).catch(() => undefined);
    }
  });

  const drain = async (): Promise<void> => {
    let last: Promise<unknown>;
    do {
      last = queue;
      await last;
    } while (last !== queue);
  };

  return {
    bucket,
    prefix: policy.prefix,
    deliver,
    delivered: () => [...delivered],
    idle: async () => {
      await drain();
      await Promise.all([...started].map((jobId) => stack.workflow.describe(jobId)?.outcome));
    },
    stop: async () => {
      unsubscribe();
      await drain();
    },
  };
};

/** Shell lines that copy an image and its sidecar into the local uploads bucket with the AWS CLI. */
export const localUploadCommands = (endpoint: string, bucket: string, prefix: string): string[] => [
  // s3rver takes only these keys; the checksum settings keep the CLI from streaming aws-chunked bodies,
  // which s3rver would store as is (a corrupt image).
  '  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1',
  '  export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required',
  `  echo '{"prompt":"the cat slowly turns its head","duration":6,"resolution":"1080p"}' > cat.png.json`,
  `  aws --endpoint-url ${endpoint} s3 cp cat.png.json s3://${bucket}/${prefix}cat.png.json   # sidecar first`,
  `  aws --endpoint-url ${endpoint} s3 cp cat.png s3://${bucket}/${prefix}cat.png`,
];

/** `npm run dev`'s uploads service: the watcher, and a banner saying how to use it. */
export const uploadsDevService: DevService = {
  name: 'uploads',
  async start({ stack, log }) {
    const watcher = await startUploadsWatcher(stack, {
      onOutcome: (outcome, event) => {
        const where = `s3://${event.detail.bucket.name}/${event.detail.object.key}`;
        switch (outcome.action) {
          case 'started':
            log(`upload ${where} → job ${outcome.jobId} started`);
            return;
          case 'rejected':
            log(`upload ${where} → job ${outcome.jobId} FAILED: ${outcome.errorMessage}`);
            return;
          case 'start-failed':
            log(`upload ${where} → job ${outcome.jobId} could not start: ${outcome.error.message}`);
            return;
          case 'existing':
            log(`upload ${where} → job ${outcome.jobId} exists already (${outcome.status})`);
            return;
          default:
            log(`upload ${where} → nothing to do: ${outcome.reason}`);
        }
      },
      onError: (error, event) =>
        log(
          `upload s3://${event.detail.bucket.name}/${event.detail.object.key} failed: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
    });
    return {
      endpoints: [
        `Uploads    s3://${watcher.bucket}/${watcher.prefix}   (an image + its <image>.json sidecar → a job)`,
      ],
      usage: [
        '',
        'Image to video (AWS CLI):',
        ...localUploadCommands(stack.s3.endpoint, watcher.bucket, watcher.prefix),
      ],
      stop: () => watcher.stop(),
    };
  },
};
