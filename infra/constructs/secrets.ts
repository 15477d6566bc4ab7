// The Segmind API key, kept in Secrets Manager and never in a Lambda environment variable.
import { Validations } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { type CfnSecret, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface SegmindApiKeyProps {
  /** Use this existing secret (by name) instead of creating one. */
  readonly existingSecretName?: string;
}

export class SegmindApiKey extends Construct {
  readonly secret: ISecret;
  /** What the functions receive in ENV.segmindApiKeySecret: an id GetSecretValue accepts (name or ARN). */
  readonly secretId: string;

  constructor(scope: Construct, id: string, props: SegmindApiKeyProps = {}) {
    super(scope, id);

    if (props.existingSecretName !== undefined) {
      if (props.existingSecretName.trim() === '') {
        throw new Error('segmindApiKeySecretName must not be empty');
      }
      this.secret = Secret.fromSecretNameV2(this, 'Secret', props.existingSecretName);
      this.secretId = props.existingSecretName;
      return;
    }

    const secret = new Secret(this, 'Secret', {
      description:
        'Segmind API key (the x-api-key header, "SG_…") for the LTX video pipeline. Created empty: set it with ' +
        '`aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <key>`.',
    });
    // Created without a value: a generated random string would look like a key and fail at Segmind with a
    // misleading 401. Empty, the first GetSecretValue fails loudly until the operator stores the real key,
    // and later deploys never overwrite it.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A third-party API key: only Segmind can issue a new one, so there is no rotation Lambda to run. ' +
        'Rotate it in the Segmind console, then put-secret-value.',
    });
    this.secret = secret;
    // The full ARN, unambiguous for GetSecretValue; the name CDK can derive from it carries the random suffix.
    this.secretId = secret.secretArn;
  }

  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
