#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point of the `ada` command: loads the TypeScript sources through tsx.
// A larger young generation (64 MB semi-spaces) keeps the short-lived objects of event appends and
// replays out of the old generation: about half the garbage collections under load.
import { register } from 'tsx/esm/api';

register();
const { runFromProcess } = await import('../ops/cli.ts');
await runFromProcess();
