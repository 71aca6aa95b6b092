/** `ada mcp`: a Model Context Protocol server over stdio on the analyst's local copy. */
import type { PullLayout } from '../pull/index.ts';
import { DEFAULT_QUERY_LIMITS, ReadOnlyDatabase } from './read-only-query.ts';
import type { QueryLimits } from './read-only-query.ts';
import { mcpTools } from './tools.ts';

/** Serves the tools on stdin/stdout until the client disconnects. */
export async function serveMcp(layout: PullLayout, version: string, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<void> {
  const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { CallToolRequestSchema, ListToolsRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
  let db: Promise<ReadOnlyDatabase> | undefined;
  const tools = mcpTools(layout, () => (db ??= ReadOnlyDatabase.create(layout, limits)));
  const server = new Server({ name: 'ada', version }, {
    capabilities: { tools: {} },
    instructions: 'The analyst\'s tables, pulled with `ada pull`: list_tables, search_tables and describe_table explain them; query runs read-only DuckDB SQL over one view per table.',
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const tool = tools.find((t) => t.name === req.params.name);
    if (!tool) return { isError: true, content: [{ type: 'text' as const, text: `unknown tool ${req.params.name}; tools: ${tools.map((t) => t.name).join(', ')}` }] };
    try {
      const result = await tool.run(req.params.arguments ?? {});
      return { content: [{ type: 'text' as const, text: JSON.stringify(result, null, 2) }], structuredContent: result as Record<string, unknown> };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { isError: true, content: [{ type: 'text' as const, text: `${code ? `[${code}] ` : ''}${(err as Error).message}` }] };
    }
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (server.onclose = resolve));
  await server.connect(transport);
  // The client going away closes stdin: that ends the server.
  process.stdin.once('end', () => void server.close());
  await closed;
  if (db) (await db).close();
}
