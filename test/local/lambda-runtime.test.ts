import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAMBDA_TIMEOUT_ERROR, LambdaFunctionError, LocalLambdaRuntime } from '#local/lambda-runtime';

const entry = fileURLToPath(new URL('./fixtures/scripted-handler.ts', import.meta.url));
const scripted = {
  name: 'ScriptedFunction',
  arn: 'arn:aws:lambda:us-east-1:123456789012:function:ScriptedFunction',
  entry,
  timeoutSeconds: 0.3,
  memoryMb: 128,
};

describe('LocalLambdaRuntime', () => {
  const runtime = new LocalLambdaRuntime([scripted]);

  it('passes a JSON copy in and returns a JSON copy, as the Lambda service does', async () => {
    const result = await runtime.invoke(scripted, { action: 'echo', value: { n: 1 } });
    expect(result).toEqual({
      value: { n: 1 },
      functionName: 'ScriptedFunction',
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('turns a thrown error into the errorType and JSON Cause a Catch sees on AWS', async () => {
    const error = await runtime
      .invoke(scripted, { action: 'throw', errorName: 'SegmindAuthError', message: 'bad key' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaFunctionError);
    expect((error as Error).name).toBe('SegmindAuthError');
    expect(JSON.parse((error as Error).message)).toEqual({
      errorType: 'SegmindAuthError',
      errorMessage: 'bad key',
      trace: [],
    });
  });

  it("ends a handler that runs past the function's timeout with Lambda's timeout error", async () => {
    const error = await runtime.invoke(scripted, { action: 'hang' }).catch((e: unknown) => e);
    expect((error as Error).name).toBe(LAMBDA_TIMEOUT_ERROR);
    expect(JSON.parse((error as Error).message).errorMessage).toMatch(/timed out after 0\.30 seconds/);
  });

  it('finds a function by name, ARN or qualified ARN, and names the known ones otherwise', () => {
    expect(runtime.find('ScriptedFunction')).toBe(scripted);
    expect(runtime.find(scripted.arn)).toBe(scripted);
    expect(runtime.find(`${scripted.arn}:$LATEST`)).toBe(scripted);
    expect(() => runtime.find('arn:aws:lambda:us-east-1:123456789012:function:Other')).toThrow(
      /ScriptedFunction/,
    );
  });
});
