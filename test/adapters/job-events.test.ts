import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { eventBridgeJobEvents } from '#adapters/job-events';
import { pendingJob } from '#test/support/workflow-fakes';

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

const cancelled = pendingJob('job-7', {
  status: 'CANCELLED',
  errorCode: 'JobCancelledError',
  errorMessage: 'Cancelled through the API',
});

describe('eventBridgeJobEvents', () => {
  it("publishes the workflow's own failed event: same source, detail type and detail shape", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const client = new EventBridgeClient({ region: 'us-east-1' });

    await eventBridgeJobEvents('jobs-bus', (entry) =>
      client.send(new PutEventsCommand({ Entries: [entry] })),
    ).jobEnded(cancelled);

    const [call] = eventBridge.commandCalls(PutEventsCommand);
    const entry = call?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'jobs-bus',
      Source: 'ltx-video-pipeline',
      DetailType: 'Video Generation Failed',
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual({
      jobId: 'job-7',
      outcome: {
        status: 'CANCELLED',
        errorCode: 'JobCancelledError',
        errorMessage: 'Cancelled through the API',
      },
    });
  });

  it('fails when EventBridge answers 200 but refuses the entry', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const client = new EventBridgeClient({ region: 'us-east-1' });
    const events = eventBridgeJobEvents('jobs-bus', (entry) =>
      client.send(new PutEventsCommand({ Entries: [entry] })),
    );

    await expect(events.jobEnded(cancelled)).rejects.toThrow(
      /did not accept the end of job job-7: InternalFailure/,
    );
  });
});
