// What a handler test on the local jobs table sets before it imports the handler module, which reads its
// configuration once, at load.
import { vi } from 'vitest';
import { configureAwsClients } from '#commons/aws-clients';
import { ENV } from '#commons/env';
import type { JobsTable } from '#test/support/jobs-table';

/**
 * Points the handlers at `table`, plus whatever `env` sets, with Powertools quiet (no logs unless `env`
 * sets POWERTOOLS_LOG_LEVEL, no metrics), and the shared DynamoDB client at the table. Undo the variables
 * with vi.unstubAllEnvs().
 */
export const stubHandlerEnv = (table: JobsTable, env: Readonly<Record<string, string>> = {}): void => {
  vi.stubEnv(ENV.jobsTable, table.tableName);
  vi.stubEnv(ENV.requestBudgetTable, table.budgetTableName);
  // Handler tests send requests back to back at real time: a budget that never runs dry. The budget's own
  // behaviour has its tests (adapters/request-budget, domain/budgeted-steps, api-e2e/burst).
  vi.stubEnv(ENV.segmindRequestsPerMinute, '1000000');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  configureAwsClients({ dynamodb: table.clientConfig });
};
