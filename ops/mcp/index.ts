/** Public face of `ada mcp`: the MCP server and its read-only query engine. */
export { serveMcp } from './server.ts';
export { ReadOnlyDatabase, DEFAULT_QUERY_LIMITS } from './read-only-query.ts';
export type { QueryLimits, QueryAnswer } from './read-only-query.ts';
export { mcpTools } from './tools.ts';
