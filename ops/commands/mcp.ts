/** `ada mcp`: the analyst's data for their AI assistant, as an MCP server over stdio. */
import type { Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';

function positiveInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} expects a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

const mcpCommand: Command = {
  name: 'mcp',
  summary: 'Serve your pulled tables to an AI assistant (Model Context Protocol over stdio; registered in .mcp.json)',
  usage: 'ada mcp [--dir DIR] [--max-rows 1000] [--max-bytes 1048576] [--timeout-ms 30000]',
  options: { dir: { type: 'string' }, 'max-rows': { type: 'string' }, 'max-bytes': { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const { pullLayout } = await import('../pull/index.ts');
    const { serveMcp, DEFAULT_QUERY_LIMITS } = await import('../mcp/index.ts');
    const layout = pullLayout((values.dir as string | undefined) ?? ctx.env.ADA_DIR ?? '.');
    await serveMcp(layout, 'ada', {
      maxRows: positiveInt(values['max-rows'], '--max-rows', DEFAULT_QUERY_LIMITS.maxRows),
      maxBytes: positiveInt(values['max-bytes'], '--max-bytes', DEFAULT_QUERY_LIMITS.maxBytes),
      timeoutMs: positiveInt(values['timeout-ms'], '--timeout-ms', DEFAULT_QUERY_LIMITS.timeoutMs),
    });
    return 0;
  },
};

/** `ada mcp`. */
export const mcpCommands: Command[] = [mcpCommand];
