/** Public face of `ops/`: what other code may match on; the commands themselves run through `bin/ada`. */
export { OpsErrorCode } from './errors.ts';
