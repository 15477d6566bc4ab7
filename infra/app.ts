// `cdk synth` / `cdk deploy` entry point (cdk.json "app"): the same app the tests and the local runner build.
import { buildApp } from '#infra/stack';

buildApp().app.synth();
