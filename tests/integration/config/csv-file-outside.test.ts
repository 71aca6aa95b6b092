import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { lineOf, tempConfig } from './temp-config.ts';
import type { TempConfig } from './temp-config.ts';

let temp: TempConfig | undefined;
afterEach(async () => {
  await temp?.remove();
  temp = undefined;
});

const INSTANCE = 'instance:\n  name: x\nauth:\n  allowed_domain: example.com\n  webapp_secret_key: a-long-enough-secret-key-0123\ndata_source:\n  type: csv\n  csv:\n    dir: ../data/csv\n';

const description = (file: string): string => [
  '# Tables', '', '```yaml', 'tables:',
  '  - id: orders', '    name: orders', '    description: Orders', `    file: ${JSON.stringify(file)}`,
  '  - id: inside', '    name: inside', '    description: Inside', '    file: sales/*.csv',
  '```', '',
].join('\n');

describe('ada config check: a CSV table file outside the CSV folder', () => {
  for (const file of ['../secrets.csv', 'sales/../../outside.csv', '/etc/passwd']) {
    it(`reports ${file} with file and line, exit 2`, async () => {
      const md = description(file);
      temp = await tempConfig({ 'config/instance.yaml': INSTANCE, 'config/data_description.md': md });
      const result = await runCli(['config', 'check', '--config', temp.configDir]);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      const where = `${path.join(temp.configDir, 'data_description.md')}:${lineOf(md, '    file: ')}: tables[0].file:`;
      assert.ok(result.stdout.includes(where), result.stdout);
      assert.match(result.stdout, /outside the CSV directory/);
      assert.doesNotMatch(result.stdout, /tables\[1\]/, 'a file inside the folder is fine');
    });
  }

  it('accepts paths and globs inside the folder', async () => {
    temp = await tempConfig({ 'config/instance.yaml': INSTANCE, 'config/data_description.md': description('./orders/2024-*.csv') });
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});
