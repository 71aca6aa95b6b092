import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/index.ts';
import { FakeKeboola } from '../fixtures/keboola/fake-keboola.ts';
import { TOKEN } from '../fixtures/keboola/keboola-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The connector keeps this many characters of an error body (connectors/keboola/download.ts MAX_ERROR_BODY). */
const CUT = 2_000;
const WEBAPP_SECRET = 'webapp-Secret-Key-0123456789abcdef';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

/** The first 8-character piece of `secret` found in `text`, if any. */
function leakedPiece(text: string, secret: string): string | undefined {
  for (let i = 0; i + 8 <= secret.length; i++) {
    const piece = secret.slice(i, i + 8);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

describe('secrets echoed by a source are masked before any cut', () => {
  it('a 400 body echoing each secret at every offset around the excerpt cut leaves no 8-char piece in the log, sync_state.json or checkpoints', async (t) => {
    const fake = await FakeKeboola.start({ token: TOKEN, tables: [{ id: 'in.c-shop.orders', columns: ['id'], rows: [{ id: '1' }] }] });
    t.after(() => fake.close());
    const root = await tempDir(t, 'ada-secret-cut-');
    const configDir = path.join(root, 'config');
    const dataDir = path.join(root, 'data');
    await mkdir(configDir, { recursive: true });
    await writeFile(path.join(configDir, 'instance.yaml'), [
      'instance:', '  name: Secret cut',
      'auth:', '  allowed_domain: example.com', `  webapp_secret_key: ${WEBAPP_SECRET}`,
      'data_source:', '  type: keboola', '  keboola:', `    stack_url: ${fake.url}`, '    storage_token: ${KBC_TOKEN}', '',
    ].join('\n'));
    await writeFile(path.join(configDir, 'data_description.md'),
      '# Secret cut\n\n```yaml\ntables:\n  - id: in.c-shop.orders\n    name: orders\n    description: Orders\n    sync_strategy: full_refresh\n```\n');
    const env = { KBC_TOKEN: TOKEN };
    const config = await loadConfig({ configDir, env });
    const secrets = config.secrets.filter((s) => s.length >= 8);
    assert.ok(secrets.includes(TOKEN) && secrets.includes(WEBAPP_SECRET), `the config holds both secrets: ${secrets.length}`);

    let runs = 0;
    for (const secret of secrets) {
      for (let offset = CUT - secret.length - 2; offset <= CUT + 1; offset++) {
        const body = `${'x'.repeat(offset)}${secret}`.padEnd(CUT, 'y');
        fake.inject({ path: /^\/v2\/storage\// }, { status: 400, body });
        const result = await runCli(['sync', '--config', configDir, '--data', dataDir, '--json'], env);
        assert.equal(result.code, 1, `offset ${offset}: the sync fails (${result.stdout} ${result.stderr})`);
        assert.match(result.stdout, /KEBOOLA_REQUEST_FAILED/);
        const printed = leakedPiece(result.stdout + result.stderr, secret);
        assert.equal(printed, undefined, `offset ${offset}: ${printed} printed`);
        runs++;
      }
    }

    const files = await filesUnder(dataDir);
    const names = files.map((f) => path.relative(dataDir, f));
    assert.ok(names.some((n) => n.startsWith(`events${path.sep}`)), names.join(', '));
    assert.ok(names.some((n) => n.endsWith('sync_state.json')), names.join(', '));
    assert.ok(names.some((n) => n.includes('checkpoint')), names.join(', '));
    const all = (await Promise.all(files.map((f) => readFile(f, 'latin1')))).join('\n');
    assert.equal(all.split('SyncFailed').length - 1 >= runs, true, 'every run recorded SyncFailed');
    for (const secret of secrets) {
      const piece = leakedPiece(all, secret);
      assert.equal(piece, undefined, `a piece of a secret (${piece}) is stored under the data dir`);
    }
  });
});
