/**
 * Distribution benchmark: a cold `ada pull` (manifest, parallel downloads with sha256 verification, atomic
 * publish) of 1 GB in 1,000 files from the distribution API on 127.0.0.1, against a plain HTTP download of
 * the same files (a bare node:http file server and client, same concurrency, no hashing; once before and once
 * after the pull, averaged) in the same run; and
 * a no-op pull of the 1,000 unchanged files. Both servers run in a child process, so client and server each
 * get their own event loop.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { ManifestFile } from '../pipeline/projections/manifest/index.ts';
import { pull, PULL_CONCURRENCY } from '../ops/pull/index.ts';
import { scratch, timed } from './util.ts';
import type { Figures } from './util.ts';
import type { Goals } from './run.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/** Files of the cold pull: the no-op figure is about this many files whatever the scale. */
const FILES = Number(process.env.BENCH_PULL_FILES ?? 1_000);
const TOTAL_BYTES = Math.round(1024 ** 3 * SCALE);
const TOKEN = 'ada_0123456789abcdef_benchmark-token';

/** Goals of this benchmark. */
export const goals: Goals = {
  'pull.cold_ratio': { min: 0.7 },
  'pull.noop_s': { max: 1 },
};

/** Writes FILES files totalling TOTAL_BYTES under `<data>/parquet/bench/t/`; returns their manifest entries. */
async function makeFiles(dataDir: string): Promise<ManifestFile[]> {
  const dir = path.join(dataDir, 'parquet', 'bench', 't');
  await mkdir(dir, { recursive: true });
  const size = Math.floor(TOTAL_BYTES / FILES);
  const block = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, Math.min(i, size - 4));
  const files: ManifestFile[] = [];
  for (let i = 0; i < FILES; i++) {
    block.writeUInt32LE(i, 0);
    const rel = `parquet/bench/t/${String(i).padStart(4, '0')}.parquet`;
    await writeFile(path.join(dataDir, rel), block);
    files.push({ path: rel, size, sha256: createHash('sha256').update(block).digest('hex'), version: 1, table: 't' });
  }
  return files;
}

/** The child: the distribution API and a plain file server over the same files; prints both URLs. */
async function serversChild(dataDir: string, manifestFile: string): Promise<void> {
  const { distributionServer } = await import('../tests/helpers/distribution-server.ts');
  const { readFile } = await import('node:fs/promises');
  const files = JSON.parse(await readFile(manifestFile, 'utf8')) as ManifestFile[];
  const app = await distributionServer({ dataDir, folder: 'bench', files, token: TOKEN });
  const api = await app.listen({ port: 0, host: '127.0.0.1' });
  const plain = http.createServer((req, res) => {
    const file = path.join(dataDir, decodeURIComponent(req.url!.slice(1)));
    void stat(file).then((s) => {
      res.writeHead(200, { 'content-length': s.size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${api} http://127.0.0.1:${(plain.address() as AddressInfo).port}\n`);
  await new Promise((resolve) => process.stdin.on('end', resolve).resume());
  await app.close();
  plain.close();
}

/** The plainest download of the same files: GET with the same concurrency, written to disk, no hashing. */
async function plainDownload(url: string, files: ManifestFile[], dir: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PULL_CONCURRENCY });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      const dest = path.join(dir, f.path);
      await mkdir(path.dirname(dest), { recursive: true });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${url}/${f.path}`, { agent }, resolve).on('error', reject));
      await pipeline(res, createWriteStream(dest));
    }
  };
  await Promise.all(Array.from({ length: PULL_CONCURRENCY }, worker));
  agent.destroy();
}

/** Runs the benchmark. */
export async function run(): Promise<Figures> {
  const root = await scratch('pull');
  const dataDir = path.join(root, 'data');
  const files = await makeFiles(dataDir);
  const manifestFile = path.join(root, 'files.json');
  await writeFile(manifestFile, JSON.stringify(files));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--servers', dataDir, manifestFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [api, plain] = await new Promise<string[]>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (line) => resolve(line.trim().split(' ')));
      child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    });
    // Plain downloads before and after the pull, averaged: the machine's load drifts during a run.
    const before = await timed(() => plainDownload(plain!, files, path.join(root, 'plain-1')));
    const cold = await timed(() => pull({ dir: path.join(root, 'analyst'), server: api!, token: TOKEN }));
    const after = await timed(() => plainDownload(plain!, files, path.join(root, 'plain-2')));
    const baseline = { ms: (before.ms + after.ms) / 2 };
    if (cold.result.downloaded.length !== FILES) throw new Error(`cold pull downloaded ${cold.result.downloaded.length} of ${FILES} files`);
    const noop = await timed(() => pull({ dir: path.join(root, 'analyst'), server: api!, token: TOKEN }));
    if (noop.result.changed || noop.result.downloaded.length) throw new Error('the no-op pull downloaded something');
    const mb = TOTAL_BYTES / 1024 ** 2;
    return [
      ['pull.files', FILES],
      ['pull.mb', mb],
      ['pull.plain_mb_per_s', mb / (baseline.ms / 1000)],
      ['pull.cold_mb_per_s', mb / (cold.ms / 1000)],
      ['pull.cold_ratio', baseline.ms / cold.ms],
      ['pull.noop_s', noop.ms / 1000],
    ];
  } finally {
    child.stdin!.end();
    child.kill();
  }
}

if (process.argv[2] === '--servers') {
  await serversChild(process.argv[3]!, process.argv[4]!);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { report } = await import('./util.ts');
  report(await run());
}
