#!/usr/bin/env node
// Entry point of the `ada` command: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../ops/cli.ts');
