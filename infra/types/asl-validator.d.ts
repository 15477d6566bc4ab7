// asl-validator 4 ships no type declarations. Note: it fills in `QueryLanguage` on the definition it is
// given, so hand it a copy.
declare module 'asl-validator' {
  export interface AslValidationError {
    readonly 'Error code': string;
    readonly Message: string;
    readonly schemaError?: { readonly instancePath: string; readonly schemaPath: string };
  }

  export interface AslValidationOptions {
    /** Check JSONPath expressions. @default true */
    readonly checkPaths: boolean;
    /** Check that Task resources are ARNs. @default true */
    readonly checkArn: boolean;
  }

  export interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly AslValidationError[];
    errorsText(separator?: string): string;
  }

  const aslValidator: (definition: unknown, options?: AslValidationOptions) => AslValidationResult;
  export default aslValidator;
}
