/** S3 GET requests signed with AWS Signature Version 4 by the `aws4` package: how slices of a sliced export on an AWS stack are downloaded. */
import aws4 from 'aws4';

/** Temporary credentials Keboola returns with `federationToken=1` (the `credentials` of a file detail). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The hash of an empty body, which a GET sends. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Headers (lower-case names, without `host`) that authenticate a GET of `url` with S3 in `region` at time `now`.
 * `extraHeaders` (for example `range`) are signed too.
 */
export function signS3Get(url: URL, credentials: AwsCredentials, region: string, now: Date, extraHeaders: Record<string, string> = {}): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const signed = aws4.sign({
    host: url.host,
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    service: 's3',
    region,
    headers: { ...extraHeaders, 'X-Amz-Date': amzDate, 'X-Amz-Content-Sha256': EMPTY_SHA256 },
    // aws4 leaves `range` unsigned by default; every header we send is signed, as AWS's examples do.
    extraHeadersToInclude: Object.fromEntries(Object.keys(extraHeaders).map((name) => [name.toLowerCase(), true])),
  } as aws4.Request, credentials);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    if (name.toLowerCase() !== 'host' && value !== undefined) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/** RFC 3986 encoding as S3 wants it: unreserved characters stay, everything else is %XX (upper case). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
