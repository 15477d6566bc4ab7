// Names of the metrics the Lambdas publish (Powertools, EMF) that infrastructure alarms on: shared by
// functions/ and infra/ without pulling Powertools into the CDK app.

export const SERVICE_NAME = 'ltx-video-pipeline';
/** The CloudWatch namespace; every metric carries the dimension `service` = SERVICE_NAME. */
export const METRICS_NAMESPACE = 'LtxVideoPipeline';

/** Submits whose outcome is unknown: Segmind may have billed a job we hold no request id for (alarmed on). */
export const SUBMIT_OUTCOME_UNKNOWN_METRIC = 'SubmitOutcomeUnknown';
/** The estimated price, in US dollars, of the jobs those submits may have created. */
export const SUBMIT_OUTCOME_UNKNOWN_COST_METRIC = 'SubmitOutcomeUnknownPossibleCostUsd';
