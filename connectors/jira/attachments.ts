/** Downloads an issue's attachments into the blob store, and names attachment files safely. */
import type { BlobStore, JiraAttachmentRef } from '../../events/index.ts';
import type { JiraClient } from './client.ts';

interface AttachmentJson { id: string | number; filename?: string; size?: number }

/** Longest file name we produce (most file systems allow 255 bytes). */
const MAX_NAME = 120;

/**
 * A file name from Jira made safe as one path segment: no separators, no `..`, no control or reserved
 * characters (nor `%`, which the distribution API refuses in a path), bounded length; prefixed by the attachment id so two files never collide.
 */
export function safeAttachmentName(id: string, filename: string): string {
  const cleaned = filename
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a file name
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|%]/g, '_')
    .replace(/[._\s]{2,}/g, '_')
    .replace(/^[._\s]+/, '')
    .replace(/[.\s]+$/, '')
    .slice(0, MAX_NAME);
  const safeId = id.replace(/[^0-9A-Za-z_-]/g, '_');
  return `${safeId}_${cleaned || 'file'}`;
}

/**
 * Stores each attachment up to `maxBytes` in the blob store (once: `known` holds blobs of attachments
 * already stored); bigger ones and failed downloads are listed with the reason.
 */
export async function storeAttachments(
  client: JiraClient,
  blobs: BlobStore | undefined,
  issue: { fields: Record<string, unknown> },
  maxBytes: number,
  known: ReadonlyMap<string, JiraAttachmentRef>,
): Promise<JiraAttachmentRef[]> {
  const list = (issue.fields.attachment as AttachmentJson[] | undefined) ?? [];
  const refs: JiraAttachmentRef[] = [];
  for (const a of list) {
    const id = String(a.id);
    const base = { id, filename: String(a.filename ?? ''), size: Number(a.size ?? 0) };
    const previous = known.get(id);
    if (previous?.blob && blobs && await blobs.has(previous.blob.sha256)) {
      refs.push({ ...base, blob: previous.blob });
      continue;
    }
    if (!blobs) {
      refs.push({ ...base, skipped: 'no blob store in this process' });
      continue;
    }
    if (base.size > maxBytes) {
      refs.push({ ...base, skipped: `larger than ${Math.round(maxBytes / 1024 / 1024)} MB` });
      continue;
    }
    try {
      const res = await client.request('GET', `/rest/api/3/attachment/content/${encodeURIComponent(id)}`);
      if (!res) {
        refs.push({ ...base, skipped: 'not found in Jira' });
        continue;
      }
      const stored = await blobs.put(res.body);
      refs.push({ ...base, blob: { sha256: stored.sha256, bytes: stored.bytes, format: 'file' } });
    } catch (err) {
      refs.push({ ...base, skipped: `download failed: ${(err as Error).message}` });
    }
  }
  return refs;
}
