import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import aws4 from 'aws4';
import { signS3Get } from '../../../connectors/keboola/s3-signing.ts';

// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite): credentials, scope and date shared by every case.
const SUITE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = '20150830T123600Z';

describe('SigV4 signing with aws4', () => {
  for (const [name, method, signature] of [
    ['get-vanilla', 'GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ] as const) {
    it(`reproduces the test suite's ${name}`, () => {
      const signed = aws4.sign({ host: 'example.amazonaws.com', path: '/', method, service: 'service', region: 'us-east-1', headers: { 'X-Amz-Date': SUITE_DATE } }, SUITE_CREDENTIALS);
      assert.equal(signed.headers?.Authorization,
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`);
    });
  }

  it('signs an S3 GET as the S3 API reference example "GET Object" (with a signed range)', () => {
    const headers = signS3Get(new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'us-east-1', new Date('2013-05-24T00:00:00Z'), { Range: 'bytes=0-9' });
    assert.match(headers.authorization!, /SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
    assert.equal(headers['x-amz-date'], '20130524T000000Z');
    assert.equal(headers.host, undefined, 'fetch sets the host itself');
  });

  it('signs the session token of federation credentials and the query in canonical order', () => {
    const url = new URL('https://b.s3.eu-central-1.amazonaws.com/exports/a%20b.csv.gz?z=1&a=2');
    const withToken = signS3Get(url, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }, 'eu-central-1', new Date('2026-01-01T00:00:00Z'));
    assert.equal(withToken['x-amz-security-token'], 'ST');
    assert.match(withToken.authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
    const reordered = signS3Get(new URL('https://b.s3.eu-central-1.amazonaws.com/exports/a%20b.csv.gz?a=2&z=1'), { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }, 'eu-central-1', new Date('2026-01-01T00:00:00Z'));
    assert.equal(reordered.authorization, withToken.authorization);
  });
});
