/**
 * The distribution API: `GET /api/v1/manifest` (what this analyst may download) and `GET /api/v1/files/*`
 * (one manifest file, streamed from disk, with ETag, If-None-Match, If-Match and Range). A file outside the analyst's
 * manifest is refused with 403 and recorded as a `FileAccessDenied` event.
 */
import { constants, createReadStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AdaConfig } from '../../config/index.ts';
import { adaError, BlobStore } from '../../events/index.ts';
import { audienceOf, fileExclusionOf, manifestFor, variantDir } from '../../pipeline/index.ts';
import type { ManifestFile, ManifestReader, ManifestState } from '../../pipeline/index.ts';
import { requireRole } from '../auth-plugin.ts';
import type { PortalPrincipal } from '../auth-plugin.ts';
import { decideRange } from './file-range.ts';
import { normalizeRequestPath } from './safe-path.ts';

/** What the distribution API reads from the broker. */
export interface DistributionDeps {
  /** The broker's data directory (Parquet under `parquet/`, docs variants under `distribution/`). */
  dataDir: string;
  /** The blob store's root: the files of published file sets (`FilesPublished`) are served from their blobs. */
  blobsDir: string;
  /** The manifest projection caught up, and the log position it reflects. */
  manifest(): Promise<{ state: ManifestState; position: number }>;
  /** Datasets a principal subscribed to (with their `requires`). */
  datasets(principal: PortalPrincipal): Promise<ReadonlySet<string>>;
  /** Records a refused file request (a `FileAccessDenied` event). */
  denied(record: { name: string; path: string; reason: 'private' | 'not-subscribed' | 'not-in-manifest' }): Promise<void>;
}

const manifestFileSchema = {
  type: 'object',
  required: ['path', 'size', 'sha256', 'version'],
  properties: { path: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' }, version: { type: 'integer' }, table: { type: 'string' }, dataset: { type: 'string' } },
} as const;

const manifestSchema = {
  type: 'object',
  required: ['format', 'position', 'analyst', 'tables', 'files'],
  properties: {
    format: { type: 'integer' },
    position: { type: 'integer' },
    analyst: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' }, datasets: { type: 'array', items: { type: 'string' } } } },
    tables: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' }, folder: { type: 'string' }, version: { type: 'integer' }, rows: { type: 'integer' },
          partitioned: { type: 'boolean' }, dataset: { type: 'string' }, private: { type: 'boolean' },
        },
      },
    },
    files: { type: 'array', items: manifestFileSchema },
  },
} as const;

/** The file of a published file set at `p`, found through its folder (each leading part of the path, deepest first). */
function setFileAt(state: ManifestState, p: string): ManifestFile | undefined {
  const sets = state.fileSets ?? {};
  const parts = p.split('/');
  for (let i = parts.length - 1; i > 0; i--) {
    const folder = parts.slice(0, i).join('/');
    const hit = Object.hasOwn(sets, folder) ? sets[folder]!.files.find((f) => f.path === p) : undefined;
    if (hit) return hit;
  }
  return undefined;
}

/** Where a manifest file lies on disk: a folder the broker owns and the path's segments under it. */
interface Location { entry: ManifestFile; root: string; rel: string[] }

/**
 * Every file any audience may get, by path, with where it lies on disk. A file set's file is its blob: its path
 * (which came from a source such as Jira) only names it, and never reaches the file system.
 */
function locate(state: ManifestState, deps: DistributionDeps, p: string, audience: 'public' | 'all'): Location | undefined {
  for (const t of Object.values(state.tables)) {
    const entry = t.files.find((f) => f.path === p);
    if (entry) return { entry, root: deps.dataDir, rel: p.split('/') };
  }
  const inSet = setFileAt(state, p);
  if (inSet) {
    const blobs = BlobStore.reader(deps.blobsDir);
    return { entry: inSet, root: blobs.root, rel: path.relative(blobs.root, blobs.pathOf(inSet.sha256)).split(path.sep) };
  }
  const entry = state.docs[audience].find((f) => f.path === p) ?? state.docs.all.find((f) => f.path === p);
  return entry ? { entry, root: variantDir(deps.dataDir, audience), rel: p.split('/') } : undefined;
}

/** Content types by file name ending; anything else is bytes. */
const CONTENT_TYPES: ReadonlyArray<[string, string]> = [
  ['.parquet', 'application/vnd.apache.parquet'], ['.json', 'application/json'], ['.md', 'text/markdown; charset=utf-8'], ['.yml', 'application/yaml'],
];

/**
 * Bytes read from disk at a time when streaming a file (a stream's default is 64 KiB). Each read is a round trip
 * through libuv's thread pool and a write to the socket: serving 1,000 files of 1 MiB took 17,000 reads, 22,000 socket
 * writes and 100,000 futex calls at 64 KiB, and 2,000, 5,000 and 36,000 at 1 MiB. Costs about 1 MiB of memory per
 * download being served (up to twice that while the socket is slower than the disk).
 */
const FILE_CHUNK_BYTES = 1024 * 1024;

/** The plugin (registered under the app; routes carry their full `/api/v1/` prefix). */
export function distributionApi(deps: DistributionDeps & { config: AdaConfig }): FastifyPluginAsync {
  return async (app) => {
    // The real paths of the few folders files are served from (data, blobs, docs variants), each looked up once.
    const realRoots = new Map<string, string>();
    const realRoot = async (root: string, fresh: boolean): Promise<string> => {
      let real = fresh ? undefined : realRoots.get(root);
      if (real === undefined) realRoots.set(root, real = await realpath(root));
      return real;
    };
    const readerOf = async (principal: PortalPrincipal): Promise<ManifestReader> => ({ name: principal.name, role: principal.role, datasets: await deps.datasets(principal) });

    app.get('/api/v1/manifest', { preHandler: requireRole(), schema: { response: { 200: manifestSchema } } }, async (req) => {
      const { state, position } = await deps.manifest();
      return manifestFor(state, deps.config, await readerOf(req.principal!), position);
    });

    app.get('/api/v1/files/*', {
      preHandler: requireRole(),
      schema: { params: { type: 'object', properties: { '*': { type: 'string' } } } },
    }, async (req, reply) => {
      const principal = req.principal!;
      const raw = (req.params as { '*': string })['*'];
      const wanted = normalizeRequestPath(raw);
      const reader = await readerOf(principal);
      const { state, position } = await deps.manifest();
      const refuse = async (reason: 'private' | 'not-subscribed' | 'not-in-manifest'): Promise<never> => {
        await deps.denied({ name: principal.name, path: raw.slice(0, 512), reason });
        throw adaError('FORBIDDEN', `${raw.slice(0, 200)} is not in your manifest (GET /api/v1/manifest lists what you may download)`);
      };
      if (wanted === undefined) return refuse('not-in-manifest');
      // A set file (there may be many thousands) is judged by its dataset alone, without building the whole manifest.
      const setFile = setFileAt(state, wanted);
      const setExclusion = setFile && fileExclusionOf(deps.config, reader, setFile);
      if (setExclusion) return refuse(setExclusion);
      const mine = setFile ?? manifestFor(state, deps.config, reader, position).files.find((f) => f.path === wanted);
      if (!mine) {
        const known = locate(state, deps, wanted, 'all');
        return refuse((known && fileExclusionOf(deps.config, reader, known.entry)) ?? 'not-in-manifest');
      }
      const where = locate(state, deps, wanted, audienceOf(reader));
      if (!where) return refuse('not-in-manifest');
      const resolve = async (fresh: boolean): Promise<{ file: string; real?: string }> => {
        const file = path.join(await realRoot(where.root, fresh), ...where.rel);
        return { file, real: await realpath(file).catch(() => undefined) };
      };
      // The manifest path is safe by construction; realpath also refuses a symlink planted inside the data dir. A
      // remembered root that moved since (its symlink changed) is looked up again before anything is refused.
      let { file, real } = await resolve(false);
      if (real !== file) ({ file, real } = await resolve(true));
      if (real === undefined) throw adaError('NOT_FOUND', `${wanted} is in the manifest but not on disk; it is being republished, pull again`);
      if (real !== file) return refuse('not-in-manifest');
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const size = (await handle.stat()).size;
        if (size !== mine.size) throw adaError('CONFLICT', `${wanted} changed since the manifest was read; pull again`);
        const etag = `"${mine.sha256}"`;
        const ifMatch = req.headers['if-match'];
        if (ifMatch !== undefined && ifMatch.trim() !== etag && ifMatch.trim() !== '*') {
          throw adaError('PRECONDITION_FAILED', `${wanted} was republished since your manifest was read (now ${etag}); fetch the manifest again`);
        }
        const decision = decideRange(req.headers, etag, size);
        void reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache');
        if (decision.kind === 'not-modified') {
          await handle.close();
          return reply.code(304).send();
        }
        if (decision.kind === 'unsatisfiable') {
          await handle.close();
          void reply.header('content-range', `bytes */${size}`);
          throw adaError('RANGE_NOT_SATISFIABLE', `range ${req.headers.range} is outside ${wanted} (${size} bytes)`);
        }
        const [start, end] = decision.kind === 'partial' ? [decision.start, decision.end] : [0, size - 1];
        if (decision.kind === 'partial') void reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
        void reply.type(CONTENT_TYPES.find(([end]) => wanted.endsWith(end))?.[1] ?? 'application/octet-stream');
        void reply.header('content-length', String(size === 0 ? 0 : end - start + 1));
        if (size === 0) {
          await handle.close();
          return reply.send('');
        }
        return reply.send(createReadStream('', { fd: handle, start, end, autoClose: true, highWaterMark: FILE_CHUNK_BYTES }));
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
    });
  };
}
