// Runs before every test file (vitest setupFiles). Node 20 lacks Promise.withResolvers, which
// aws-local-stepfunctions calls; Lambda's Node 22 has it.
import '#local/polyfills';

// The project supports Node 20; the AWS SDK's notice about its own future Node 22 floor is noise in test
// output. The same switch startLocalStack sets, and only that one: every other warning still shows.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
