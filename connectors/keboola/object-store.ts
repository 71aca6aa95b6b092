/**
 * Turns a slice URL from a sliced file's manifest into an HTTP request on every cloud Keboola runs on: `s3://`
 * (AWS, signed with SigV4 and the file's federation credentials), `gs://` (GCP, the file's OAuth token),
 * `azure://` (Azure, the file's SAS) and plain `https://` (already pre-signed).
 */
import { adaError } from '../../events/index.ts';
import { KeboolaErrorCode, safeUrl } from './errors.ts';
import { signS3Get, uriEncode } from './s3-signing.ts';
import type { FileDetail } from './storage-api-types.ts';

/** Where object stores are reached; tests (and S3-compatible stores) point them elsewhere. No trailing slash. */
export interface ObjectStoreEndpoints {
  /** Path-style base for `s3://bucket/key` → `<s3>/bucket/key`. Default: virtual-hosted `https://bucket.s3.<region>.amazonaws.com`. */
  s3?: string;
  /** Base for `gs://bucket/key` → `<gcs>/bucket/key`. Default `https://storage.googleapis.com`. */
  gcs?: string;
  /** Base for `azure://account.blob.core.windows.net/container/path` → `<azure>/account/container/path`. Default `https://account.blob.core.windows.net`. */
  azure?: string;
}

/** A ready-to-send GET. */
export interface StoreRequest {
  url: string;
  headers: Record<string, string>;
}

/** The request that downloads `entryUrl` with the credentials of `file`, signed at `now`. */
export function storeRequest(entryUrl: string, file: FileDetail, endpoints: ObjectStoreEndpoints = {}, now: Date = new Date()): StoreRequest {
  const scheme = /^([a-z0-9]+):\/\//i.exec(entryUrl)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'https':
    case 'http':
      return azureHttps(entryUrl, file) ?? { url: entryUrl, headers: {} };
    case 's3':
      return s3Request(entryUrl, file, endpoints, now);
    case 'gs':
      return gcsRequest(entryUrl, file, endpoints);
    case 'azure':
      return azureRequest(entryUrl, file, endpoints);
    default:
      throw adaError(KeboolaErrorCode.badResponse, `Keboola's slice manifest names a URL this connector cannot download: ${safeUrl(entryUrl)}`, { scheme });
  }
}

function s3Request(entryUrl: string, file: FileDetail, endpoints: ObjectStoreEndpoints, now: Date): StoreRequest {
  const { bucket, key } = splitBucketKey(entryUrl, 's3://');
  const creds = file.credentials;
  if (!creds?.AccessKeyId || !creds.SecretAccessKey) {
    throw adaError(KeboolaErrorCode.badResponse, `Keboola file ${file.id} is sliced on S3 but its detail carries no federation credentials`, { fileId: file.id });
  }
  const region = file.region ?? 'us-east-1';
  const path = key.split('/').map(uriEncode).join('/');
  // Virtual-hosted style is the default; a bucket name with dots breaks its TLS certificate, so those go path-style.
  const base = endpoints.s3 !== undefined ? `${endpoints.s3}/${bucket}` : bucket.includes('.') ? `https://s3.${region}.amazonaws.com/${bucket}` : `https://${bucket}.s3.${region}.amazonaws.com`;
  const url = new URL(`${base}/${path}`);
  const credentials = creds.SessionToken !== undefined
    ? { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken }
    : { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
  return { url: url.toString(), headers: signS3Get(url, credentials, region, now) };
}

function gcsRequest(entryUrl: string, file: FileDetail, endpoints: ObjectStoreEndpoints): StoreRequest {
  const { bucket, key } = splitBucketKey(entryUrl, 'gs://');
  const token = file.gcsCredentials?.access_token;
  if (!token) throw adaError(KeboolaErrorCode.badResponse, `Keboola file ${file.id} is sliced on GCS but its detail carries no access token`, { fileId: file.id });
  const base = endpoints.gcs ?? 'https://storage.googleapis.com';
  return { url: `${base}/${bucket}/${key.split('/').map(uriEncode).join('/')}`, headers: { authorization: `Bearer ${token}` } };
}

function azureRequest(entryUrl: string, file: FileDetail, endpoints: ObjectStoreEndpoints): StoreRequest {
  const rest = entryUrl.slice('azure://'.length);
  const slash = rest.indexOf('/');
  const host = slash === -1 ? rest : rest.slice(0, slash);
  const blobPath = slash === -1 ? '' : rest.slice(slash + 1);
  const account = host.split('.')[0] ?? host;
  const base = endpoints.azure !== undefined ? `${endpoints.azure}/${account}` : `https://${host}`;
  return { url: `${base}/${blobPath.split('/').map(uriEncode).join('/')}?${sasOf(file)}`, headers: {} };
}

/** An `https://…blob.core.windows.net/…` slice without its own SAS gets the file's. */
function azureHttps(entryUrl: string, file: FileDetail): StoreRequest | undefined {
  if (!file.absCredentials || !/\.blob\.core\.windows\.net\//i.test(entryUrl) || entryUrl.includes('?')) return undefined;
  return { url: `${entryUrl}?${sasOf(file)}`, headers: {} };
}

/** The SAS query of an Azure connection string `BlobEndpoint=…;SharedAccessSignature=sv=…&sig=…`. */
export function sasOf(file: FileDetail): string {
  const connection = file.absCredentials?.SASConnectionString;
  const sas = connection?.split(';').map((part) => part.trim()).find((part) => part.startsWith('SharedAccessSignature='));
  if (!sas) throw adaError(KeboolaErrorCode.badResponse, `Keboola file ${file.id} is sliced on Azure but its detail carries no SAS`, { fileId: file.id });
  return sas.slice('SharedAccessSignature='.length).replace(/^\?/, '');
}

function splitBucketKey(url: string, prefix: string): { bucket: string; key: string } {
  const rest = url.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw adaError(KeboolaErrorCode.badResponse, `Keboola's slice manifest has a malformed URL: ${safeUrl(url)}`);
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}
