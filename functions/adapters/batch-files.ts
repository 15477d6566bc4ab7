// A batch's files in S3: the manifest streamed line by line (bounded memory, whatever its size up to the
// limit), the batch's lines file (JSON Lines the Distributed Map reads) and the summary.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '#commons/aws-clients';
import {
  BatchInputError,
  type BatchLine,
  batchLineSchema,
  type ManifestLocation,
  type S3Location,
} from '#domain/batch-manifest';
import type { BatchFiles } from '#domain/batch-run';
import type { BatchSummary } from '#domain/batch-summary';

/** A manifest larger than this is refused before reading: 5,000 generous lines fit several times over. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion', 'NoSuchBucket']);

const url = ({ bucket, key }: S3Location): string => `s3://${bucket}/${key}`;

export class S3BatchFiles implements BatchFiles {
  readonly #client: S3Client;

  constructor(client: S3Client) {
    this.#client = client;
  }

  async *readManifest(location: ManifestLocation): AsyncIterable<string> {
    let body: Readable;
    try {
      const object = await this.#client.send(
        new GetObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          ...(location.versionId === undefined ? {} : { VersionId: location.versionId }),
        }),
      );
      if ((object.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
        (object.Body as Readable | undefined)?.destroy();
        throw new BatchInputError(
          `${url(location)} is ${object.ContentLength} bytes; a manifest may have at most ${MAX_MANIFEST_BYTES}`,
        );
      }
      body = object.Body as Readable;
    } catch (error) {
      if (error instanceof Error && MISSING.has(error.name)) {
        throw new BatchInputError(`the manifest ${url(location)} does not exist`, { cause: error });
      }
      throw error;
    }
    const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) yield line;
    } finally {
      lines.close();
      body.destroy();
    }
  }

  async writeLines(location: S3Location, lines: readonly BatchLine[]): Promise<void> {
    await this.#put(location, lines.map((line) => `${JSON.stringify(line)}\n`).join(''), 'application/jsonl');
  }

  async readLines(location: S3Location): Promise<BatchLine[]> {
    const text = await this.#read(location);
    return text
      .split('\n')
      .filter((row) => row.trim() !== '')
      .map((row, index) => {
        const parsed = batchLineSchema.safeParse(JSON.parse(row));
        if (!parsed.success) {
          throw new Error(`${url(location)} row ${index + 1} is not a batch line: ${parsed.error.message}`);
        }
        return parsed.data;
      });
  }

  async writeSummary(location: S3Location, summary: BatchSummary): Promise<void> {
    await this.#put(location, `${JSON.stringify(summary, null, 2)}\n`, 'application/json');
  }

  async #read(location: S3Location): Promise<string> {
    const { Body } = await this.#client.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    if (!Body) throw new Error(`${url(location)} has no body`);
    return Body.transformToString('utf8');
  }

  async #put(location: S3Location, body: string, contentType: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        Body: body,
        ContentType: contentType,
      }),
    );
  }
}

/** The files the Lambdas use, through the shared per-container S3 client. */
export const createBatchFiles = (client: S3Client = s3Client()): S3BatchFiles => new S3BatchFiles(client);
