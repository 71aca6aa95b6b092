/** Public face of the access projection: analysts, roles, tokens, SSH keys and the decisions that change them. */
export * from './projection.ts';
export * from './validate.ts';
export * from './tokens.ts';
export * from './decide.ts';
