/** `npm start`: syncs the bundled demo into ./data and serves it on http://127.0.0.1:3000. */
import { fileURLToPath } from 'node:url';
import { abortOnSignals, main } from './cli.ts';

const demo = fileURLToPath(new URL('../examples/demo', import.meta.url));
const controller = new AbortController();
abortOnSignals(controller);
const ctx = {
  env: process.env,
  out: (s: string) => process.stdout.write(`${s}\n`),
  err: (s: string) => process.stderr.write(`${s}\n`),
  isTTY: Boolean(process.stdout.isTTY),
  signal: controller.signal,
};
const data = process.env.DATA_DIR ?? 'data';
ctx.out(`Syncing the demo instance (${demo}) into ./${data} …`);
const synced = await main({ ...ctx, argv: ['sync', '--config', demo, '--data', data] });
if (synced !== 0) ctx.err('Some demo tables failed to sync (see above); serving what is published.');
if (!controller.signal.aborted) {
  process.exitCode = await main({ ...ctx, argv: ['serve', '--config', demo, '--data', data, '--port', process.env.PORT ?? '3000'] });
}
