// The OpenAPI 3.1 document of the video API, generated from the same zod schemas and route table the
// handlers and the API Gateway construct use. infra/api/openapi.json is this output, committed; a test
// regenerates it and fails when the two differ. Regenerate with `npx tsx infra/api/openapi.ts`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createdJobSchema,
  createVideoBodySchema,
  errorBodySchema,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeySchema,
  jobIdSchema,
  jobListSchema,
  jobViewSchema,
  listVideosParams,
  openApiComponents,
  openApiSchema,
} from '#domain/api-schemas';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';
import { API_ROUTES } from '#functions/api/routes';

export const OPENAPI_PATH = fileURLToPath(new URL('./openapi.json', import.meta.url));

type Json = Record<string, unknown>;

const ref = (kind: 'schemas' | 'parameters' | 'responses', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});

const jsonContent = (schemaName: string): Json => ({
  content: { 'application/json': { schema: ref('schemas', schemaName) } },
});

const errorResponse = (description: string): Json => ({ description, ...jsonContent('Error') });

/** Examples of valid bodies; the contract test sends each through the handler and expects a 202. */
export const REQUEST_EXAMPLES = {
  minimal: {
    summary: 'A prompt, defaults for the rest (8 s, 2k, with audio)',
    value: { prompt: 'A red fox running through fresh snow at dawn, cinematic' },
  },
  everything: {
    summary: 'Every option, image-to-video',
    value: {
      prompt: 'The lighthouse beam sweeps across a stormy sea',
      duration: 10,
      resolution: '4k',
      generateAudio: false,
      imageUrl: 'https://example.com/lighthouse.png',
    },
  },
} as const;

const operationDetails: Record<string, Json> = {
  createVideo: {
    description:
      'Validates the request, creates the job (PENDING) and starts its workflow. With an ' +
      `\`${IDEMPOTENCY_KEY_HEADER}\` header, repeating the call returns the same job instead of a new one; ` +
      'the same key with a different body is refused (422).',
    parameters: [ref('parameters', 'IdempotencyKey')],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: ref('schemas', 'VideoRequest'), examples: REQUEST_EXAMPLES },
      },
    },
    responses: {
      '202': {
        description: 'The job exists and its workflow has started (or had, on a replay).',
        headers: {
          Location: { description: 'Path of the job', schema: { type: 'string' } },
          'Idempotent-Replayed': {
            description: `\`true\` when an earlier call with this ${IDEMPOTENCY_KEY_HEADER} created the job`,
            schema: { type: 'string', enum: ['true'] },
          },
        },
        ...jsonContent('CreatedJob'),
      },
      '400': ref('responses', 'ValidationError'),
      '403': ref('responses', 'Forbidden'),
      '415': errorResponse(
        'The body is not `application/json` (UTF-8); `error.fields` names `Content-Type` (code UnsupportedMediaType).',
      ),
      '422': errorResponse(`The ${IDEMPOTENCY_KEY_HEADER} was already used with a different body.`),
      '429': ref('responses', 'Throttled'),
      '500': ref('responses', 'InternalError'),
    },
  },
  listVideos: {
    description:
      'Jobs newest first, one page at a time. Without `status`, jobs of every status are merged. ' +
      'The listing reads an index and is eventually consistent: a job created a moment ago may appear a moment later.',
    parameters: [ref('parameters', 'Status'), ref('parameters', 'Limit'), ref('parameters', 'Cursor')],
    responses: {
      '200': { description: 'One page of jobs', ...jsonContent('JobList') },
      '400': ref('responses', 'ValidationError'),
      '403': ref('responses', 'Forbidden'),
      '429': ref('responses', 'Throttled'),
      '500': ref('responses', 'InternalError'),
    },
  },
  getVideo: {
    description:
      'The job record. Once COMPLETED, `links.video` holds a presigned download URL that expires soon ' +
      '(`links.video.expiresAt`); GET the job again for a fresh one.',
    parameters: [ref('parameters', 'JobId')],
    responses: {
      '200': { description: 'The job', ...jsonContent('Job') },
      '400': ref('responses', 'ValidationError'),
      '403': ref('responses', 'Forbidden'),
      '404': ref('responses', 'NotFound'),
      '429': ref('responses', 'Throttled'),
      '500': ref('responses', 'InternalError'),
    },
  },
  cancelVideo: {
    description:
      'Marks the job CANCELLED and stops its workflow. Segmind cannot cancel a render: a result that ' +
      'arrives later is discarded, never stored.',
    parameters: [ref('parameters', 'JobId')],
    responses: {
      '200': { description: 'The cancelled job', ...jsonContent('Job') },
      '400': ref('responses', 'ValidationError'),
      '403': ref('responses', 'Forbidden'),
      '404': ref('responses', 'NotFound'),
      '409': errorResponse(
        'The job already ended (JobAlreadyEnded), or is STORING (JobBeingStored): Segmind finished and billed it, so it ends COMPLETED.',
      ),
      '429': ref('responses', 'Throttled'),
      '500': ref('responses', 'InternalError'),
    },
  },
};

const pathsOf = (): Json => {
  const paths: Record<string, Json> = {};
  for (const route of API_ROUTES) {
    const details = operationDetails[route.operationId];
    if (details === undefined) throw new Error(`no OpenAPI details for route ${route.operationId}`);
    paths[route.path] ??= {};
    (paths[route.path] as Json)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: ['videos'],
      ...details,
    };
  }
  return paths;
};

export const buildOpenApiDocument = (): Json => ({
  openapi: '3.1.0',
  info: {
    title: 'ltx-video-pipeline API',
    version: '1.0.0',
    description:
      "Turn prompts (and images) into videos with Segmind's LTX-2 Fast. Create a job, poll it, download " +
      'the MP4. On AWS every request is signed with SigV4 (IAM) or, if the deployment chose API keys, ' +
      'carries `x-api-key`. The local stack (`npm run dev`) needs neither. Errors are JSON: ' +
      '`{"error": {"code", "message", "fields": [{"field", "message"}], "requestId"}}`.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [
    {
      url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
      description: 'API Gateway (see the stack output ApiUrl)',
      variables: {
        apiId: { default: 'abc123', description: 'The REST API id' },
        region: { default: 'us-east-1' },
        stage: { default: 'v1' },
      },
    },
    {
      url: 'http://127.0.0.1:{port}',
      description: 'The local stack (npm run dev)',
      variables: { port: { default: '3000' } },
    },
  ],
  security: [{ sigv4: [] }, { apiKey: [] }],
  tags: [{ name: 'videos', description: 'Video generation jobs' }],
  paths: pathsOf(),
  components: {
    securitySchemes: {
      sigv4: {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        description: 'AWS Signature Version 4 (IAM), service `execute-api`. The default.',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
      apiKey: {
        type: 'apiKey',
        name: 'x-api-key',
        in: 'header',
        description:
          'API Gateway API key, when the deployment uses API keys with a usage plan instead of IAM.',
      },
    },
    schemas: {
      ...openApiComponents({ VideoRequest: createVideoBodySchema }, 'input'),
      ...openApiComponents(
        { Job: jobViewSchema, CreatedJob: createdJobSchema, JobList: jobListSchema, Error: errorBodySchema },
        'output',
      ),
    },
    parameters: {
      JobId: {
        name: 'jobId',
        in: 'path',
        required: true,
        schema: openApiSchema(jobIdSchema, 'input'),
      },
      IdempotencyKey: {
        name: IDEMPOTENCY_KEY_HEADER,
        in: 'header',
        required: false,
        description:
          'Makes the create safe to retry: the same key (from the same caller) with the same body returns ' +
          'the same job. Keys are compared per caller.',
        schema: openApiSchema(idempotencyKeySchema, 'input'),
      },
      Status: {
        name: 'status',
        in: 'query',
        required: false,
        description: 'Only jobs in this status. Without it, all statuses.',
        schema: openApiSchema(listVideosParams.status, 'input'),
      },
      Limit: {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'Jobs per page.',
        schema: openApiSchema(listVideosParams.limit, 'input'),
      },
      Cursor: {
        name: 'cursor',
        in: 'query',
        required: false,
        description: '`nextCursor` of the previous page, used with the same `status`.',
        schema: openApiSchema(listVideosParams.cursor, 'input'),
      },
    },
    responses: {
      ValidationError: errorResponse(
        'The input breaks a rule; `error.fields` names each field at fault (code ValidationError). ' +
          `Prompts are limited to ${MAX_PROMPT_LENGTH} characters.`,
      ),
      NotFound: errorResponse(
        'There is no job with this id that belongs to the caller (code NotFound): the same answer whether ' +
          "the job does not exist or is another caller's.",
      ),
      Forbidden: errorResponse('Missing or invalid credentials, or no permission (API Gateway).'),
      Throttled: errorResponse('Too many requests; retry later with backoff (API Gateway).'),
      InternalError: errorResponse(
        'Something failed on our side (code InternalError); `error.requestId` identifies the request in our logs.',
      ),
    },
  },
});

/** The committed file's content (biome may re-wrap it; the test compares the parsed JSON). */
export const renderOpenApiDocument = (): string => `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  writeFileSync(OPENAPI_PATH, renderOpenApiDocument());
  console.log(`wrote ${OPENAPI_PATH}`);
}
