// Names of the environment variables the Lambdas read. Shared by infra/ (which sets them) and
// functions/ (which reads them), so the two cannot drift apart.
export const ENV = {
  jobsTable: 'JOBS_TABLE_NAME',
  videosBucket: 'VIDEOS_BUCKET_NAME',
  segmindBaseUrl: 'SEGMIND_BASE_URL',
  /** On AWS: the Secrets Manager secret holding the key. Locally: unset, and SEGMIND_API_KEY is used. */
  segmindApiKeySecret: 'SEGMIND_API_KEY_SECRET_NAME',
  segmindApiKey: 'SEGMIND_API_KEY',
  /** Local stack only: how many times faster than real time the emulator's clock (and our waits) run. */
  timeScale: 'LTX_TIME_SCALE',
  /** Local stack only: hosts store-video may fetch from although they are loopback (the emulator). */
  allowedVideoHosts: 'LTX_ALLOWED_VIDEO_HOSTS',
  eventBusName: 'EVENT_BUS_NAME',
} as const;
