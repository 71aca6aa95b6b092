/** A server with only the distribution API, over one public table `t` made of the given files (tests, the pull benchmark). */
import type { FastifyInstance } from 'fastify';
import type { AdaConfig } from '../../config/index.ts';
import type { ManifestFile, ManifestState } from '../../pipeline/projections/manifest/index.ts';
import { buildServer } from '../../portal/index.ts';

/** What the server serves and whom it lets in. */
export interface DistributionServerOptions {
  dataDir: string;
  /** The table's folder under `parquet/`. */
  folder: string;
  files: ManifestFile[];
  /** The one token it accepts (an analyst's). */
  token: string;
}

/** Builds the server (not listening): `GET /api/v1/manifest` and `/api/v1/files/…` for the one analyst. */
export async function distributionServer(opts: DistributionServerOptions): Promise<FastifyInstance> {
  const state: ManifestState = {
    tables: {
      t: {
        table: 't', folder: opts.folder, strategy: 'partitioned', rows: 0, bytes: opts.files.reduce((n, f) => n + f.size, 0), schema: [],
        publishedAt: new Date().toISOString(), contentHash: 'x', version: 1, files: opts.files,
      },
    },
    fileSets: {},
    docs: { public: [], all: [] },
    pending: 0,
  };
  // The API reads only `tables`, datasets and the session secret of the configuration.
  const config = {
    tables: [{ name: 't', private: false, foreignKeys: [] }],
    instance: { datasets: {}, auth: { webappSecretKey: 'distribution-test-secret-key-0123456789abcdef' } },
  } as unknown as AdaConfig;
  return buildServer({
    config,
    health: () => Promise.reject(new Error('not served here')),
    authenticate: ({ token }) => (token === opts.token ? { name: 'analyst', role: 'analyst' } : undefined),
    distribution: {
      dataDir: opts.dataDir,
      blobsDir: `${opts.dataDir}/blobs`,
      manifest: async () => ({ state, position: 1 }),
      datasets: async () => new Set<string>(),
      denied: async () => undefined,
    },
  });
}
