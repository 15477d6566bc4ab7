// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions calls. Lambda's Node 22 has it.
import '#local/polyfills';
