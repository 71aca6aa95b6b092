/** Public face of the manifest projection: what the distribution API hands out, and to whom. */
export * from './types.ts';
export * from './projection.ts';
export * from './for-analyst.ts';
export { variantDir, isPrivateTable } from './docs-variants.ts';
export { RESERVED_TOP_FOLDERS } from './projection.ts';
