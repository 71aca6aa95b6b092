/** `ada watch`: live updates of the analyst's tables and datasets, and (with --pull) a pull when one is published. */
import type { Command } from '../command.ts';
import { runPull } from './pull.ts';
import { UsageError } from '../usage-error.ts';

const watchCommand: Command = {
  name: 'watch',
  summary: 'Follow updates of your tables and datasets live (desktop notifications when available); --pull pulls on each publish',
  usage: 'ada watch [--pull] [--dir DIR] [--server URL] [--token T | $ADA_TOKEN]',
  options: { pull: { type: 'boolean' }, dir: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const { pullLayout, resolveSettings } = await import('../pull/index.ts');
    const { watch, desktopNotifier } = await import('../watch/index.ts');
    const dir = (values.dir as string | undefined) ?? ctx.env.ADA_DIR ?? '.';
    const layout = pullLayout(dir);
    const settings = await resolveSettings(layout.settings, { ...(values.server ? { server: values.server as string } : {}), ...(values.token ? { token: values.token as string } : {}) }, ctx.env);
    const desktop = desktopNotifier(ctx.env);
    const stamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await watch({
      layout, ...settings, signal: ctx.signal,
      log: (m) => ctx.err(`${stamp()} ${m}`),
      notify: (n) => {
        desktop?.(n.title, n.message);
        ctx.out(`${n.timestamp} ${n.level}: ${n.message}`);
      },
      ...(values.pull ? {
        onPublished: async (what) => {
          const r = await runPull({ dir }, ctx);
          const after = 'table' in what ? `${what.table} was published` : `files of ${what.dataset} were published`;
          ctx.out(r.changed ? `${stamp()} pulled after ${after}: ${r.downloaded.length} file(s), ${r.manifest.tables.length} table(s)` : `${stamp()} pull after ${after}: up to date`);
        },
      } : {}),
    });
    return 0;
  },
};

/** `ada watch`. */
export const watchCommands: Command[] = [watchCommand];
