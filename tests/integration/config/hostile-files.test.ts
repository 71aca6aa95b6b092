import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { MAX_CONFIG_FILE_BYTES } from '../../../config/index.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempConfig } from './temp-config.ts';
import type { TempConfig } from './temp-config.ts';

let temp: TempConfig | undefined;
afterEach(async () => {
  await temp?.remove();
  temp = undefined;
});

const INSTANCE = [
  'instance:',
  '  name: Hostile files',
  'auth:',
  '  allowed_domain: example.com',
  '  webapp_secret_key: a-long-enough-secret-key-0123',
  'data_source:',
  '  type: csv',
  '  csv:',
  '    dir: ../data/csv',
  '',
].join('\n');

describe('config files a careless or hostile user hands ada', () => {
  it('instance.yaml that is a directory: exit 2 naming the path', async () => {
    temp = await tempConfig({});
    const file = path.join(temp.configDir, 'instance.yaml');
    await mkdir(file);
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.ok((result.stdout + result.stderr).includes(`${file}: is a directory, not a file`), result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, /EISDIR/);
  });

  it('Latin-1 bytes in instance.yaml: refused with file and line, not turned into U+FFFD', async () => {
    temp = await tempConfig({});
    const file = path.join(temp.configDir, 'instance.yaml');
    const text = INSTANCE.replace('  name: Hostile files', '  name: Caf\u00e9 data');
    await writeFile(file, Buffer.from(text, 'latin1'));
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(result.stdout, new RegExp(`^${escape(file)}:2: .*not valid UTF-8.*byte 0xE9`, 'm'));
  });

  it('Latin-1 bytes in the data description: refused with its file and line', async () => {
    temp = await tempConfig({ 'config/instance.yaml': INSTANCE });
    const md = path.join(temp.configDir, 'data_description.md');
    await writeFile(md, Buffer.from('# Tables\n\n```yaml\ntables:\n  - id: orders\n    name: orders\n    description: Ca\u00f1a\n```\n', 'latin1'));
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(result.stdout, new RegExp(`^${escape(md)}:7: .*not valid UTF-8`, 'm'));
  });

  it('a config file above the documented size is refused before it is parsed', async () => {
    temp = await tempConfig({});
    const file = path.join(temp.configDir, 'instance.yaml');
    await writeFile(file, `${INSTANCE}# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`);
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 2, result.stderr + result.stdout);
    assert.match(result.stdout, new RegExp(`^${escape(file)}: is \\d+ bytes; config files may be at most ${MAX_CONFIG_FILE_BYTES} bytes`, 'm'));
  });

  it('a file just under the limit still loads', async () => {
    temp = await tempConfig({});
    await writeFile(path.join(temp.configDir, 'instance.yaml'), `${INSTANCE}# ${'x'.repeat(MAX_CONFIG_FILE_BYTES - INSTANCE.length - 4)}\n`);
    const result = await runCli(['config', 'check', '--config', temp.configDir]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
