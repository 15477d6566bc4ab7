// Runs the real Lambda handler modules in this process the way the Lambda service would: a JSON copy of
// the payload in, a JSON copy of the result out, a Lambda context with a deadline, and a thrown error
// turned into the invoke error Step Functions sees on AWS (Error = errorType, Cause = the JSON document).
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LocalFunction {
  /** The function's name locally: its CloudFormation logical id. */
  name: string;
  arn: string;
  /** Absolute path of the handler module; it must export `handler`. */
  entry: string;
  timeoutSeconds: number;
  memoryMb: number;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * A handler threw (or timed out). `name` is the Lambda errorType and `message` the Cause string AWS gives
 * a Catch: `{"errorType":…,"errorMessage":…,"trace":[]}` — so the same definition parses the same shape.
 */
export class LambdaFunctionError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorType, errorMessage, trace: [] }));
    this.name = errorType;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}

/** Lambda's own name for a function that ran past its timeout. */
export const LAMBDA_TIMEOUT_ERROR = 'Sandbox.Timedout';

export class LocalLambdaRuntime {
  readonly #functions: readonly LocalFunction[];
  readonly #handlers = new Map<string, Promise<Handler>>();
  readonly #invocations: Record<string, number> = {};

  constructor(functions: readonly LocalFunction[]) {
    this.#functions = functions;
  }

  get functions(): readonly LocalFunction[] {
    return this.#functions;
  }

  /** Invocations per function name since start. */
  invocations(): Record<string, number> {
    return { ...this.#invocations };
  }

  /** Finds a function by name, ARN or partial ARN, with or without a version/alias qualifier. */
  find(functionNameOrArn: string): LocalFunction {
    const name = functionNameFrom(functionNameOrArn);
    const found = this.#functions.find((fn) => fn.name === name);
    if (!found) {
      throw new Error(
        `No local handler for Lambda function ${functionNameOrArn}; known: ${this.#functions.map((f) => f.name).join(', ')}`,
      );
    }
    return found;
  }

  /** Loads every handler module now, so configuration errors surface at start-up rather than mid-job. */
  async preload(): Promise<void> {
    await Promise.all(this.#functions.map((fn) => this.#handler(fn)));
  }

  /** Invokes synchronously (RequestResponse). Resolves with the function's JSON result. */
  async invoke(fn: LocalFunction, payload: unknown): Promise<unknown> {
    this.#invocations[fn.name] = (this.#invocations[fn.name] ?? 0) + 1;
    const handler = await this.#handler(fn);
    const requestId = randomUUID();
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context = lambdaContext(fn, requestId, deadline);
    const event = jsonCopy(payload);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LambdaFunctionError(
              LAMBDA_TIMEOUT_ERROR,
              `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
            ),
          ),
        fn.timeoutSeconds * 1000,
      );
    });
    try {
      const result = await Promise.race([handler(event, context), timeout]);
      return jsonCopy(result);
    } catch (error) {
      if (error instanceof LambdaFunctionError) throw error;
      throw toLambdaFunctionError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  #handler(fn: LocalFunction): Promise<Handler> {
    let loaded = this.#handlers.get(fn.entry);
    if (!loaded) {
      loaded = import(fn.entry).then((module: { handler?: unknown }) => {
        if (typeof module.handler !== 'function') {
          throw new Error(`${fn.entry} does not export a handler function`);
        }
        return module.handler as Handler;
      });
      this.#handlers.set(fn.entry, loaded);
    }
    return loaded;
  }
}

/** How the Node.js runtime reports a thrown value: errorType is the error's `name`. */
export const toLambdaFunctionError = (error: unknown): LambdaFunctionError => {
  if (error instanceof Error) return new LambdaFunctionError(error.name || 'Error', error.message);
  return new LambdaFunctionError('Error', typeof error === 'string' ? error : JSON.stringify(error));
};

/** `arn:aws:lambda:r:a:function:Name[:qualifier]`, `a:function:Name`, or `Name[:qualifier]` → `Name`. */
const functionNameFrom = (nameOrArn: string): string => {
  const parts = nameOrArn.split(':');
  const at = parts.indexOf('function');
  if (at >= 0) return parts[at + 1] ?? nameOrArn;
  return parts[0] ?? nameOrArn;
};

/** What crosses the Lambda boundary is JSON: undefined becomes null, Dates become strings, and so on. */
const jsonCopy = (value: unknown): unknown => {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
};

const lambdaContext = (fn: LocalFunction, requestId: string, deadline: number): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: fn.name,
  functionVersion: '$LATEST',
  invokedFunctionArn: fn.arn,
  memoryLimitInMB: String(fn.memoryMb),
  awsRequestId: requestId,
  logGroupName: `/aws/lambda/${fn.name}`,
  logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
