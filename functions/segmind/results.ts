// Narrowing helpers for ResultReport (its pending variant has `status: string`, which plain `===` checks
// cannot tell apart from 'COMPLETED'), and the one place a FAILED result becomes SegmindJobFailedError.
import { SegmindJobFailedError } from '#segmind/errors';
import type { ResultReport, SegmindStatus, StatusReport } from '#segmind/types';

export type CompletedResult = Extract<ResultReport, { status: 'COMPLETED'; video: unknown }>;
export type FailedResult = Extract<ResultReport, { status: 'FAILED'; error: string }>;
export type PendingResult = Extract<ResultReport, { pending: true }>;

export const isPendingResult = (report: ResultReport): report is PendingResult => 'pending' in report;
export const isCompletedResult = (report: ResultReport): report is CompletedResult =>
  !isPendingResult(report) && report.status === 'COMPLETED';
export const isFailedResult = (report: ResultReport): report is FailedResult =>
  !isPendingResult(report) && report.status === 'FAILED';

/** COMPLETED and FAILED end a job; every other status, documented or not, means "ask again later". */
export const isTerminalStatus = (status: string): status is Extract<SegmindStatus, 'COMPLETED' | 'FAILED'> =>
  status === 'COMPLETED' || status === 'FAILED';

/** The FAILED status as the error the workflow's Catch matches, carrying Segmind's own detail. */
export const jobFailedError = (report: StatusReport | FailedResult): SegmindJobFailedError =>
  new SegmindJobFailedError(report.error ?? 'Segmind gave no error detail', { requestId: report.requestId });

/**
 * The result of a job that must be finished: the COMPLETED report, SegmindJobFailedError for FAILED, and
 * undefined while Segmind still reports it pending (the caller decides whether that is a bug or a wait).
 */
export const completedResult = (report: ResultReport): CompletedResult | undefined => {
  if (isFailedResult(report)) throw jobFailedError(report);
  return isCompletedResult(report) ? report : undefined;
};
