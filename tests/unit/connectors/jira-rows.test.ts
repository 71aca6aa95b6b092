import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adfToText } from '../../../connectors/jira/adf.ts';
import { safeAttachmentName } from '../../../connectors/jira/attachments.ts';
import { retryDelayMs } from '../../../connectors/jira/client.ts';
import { createdMonth, issueRows } from '../../../connectors/jira/rows.ts';
import { signBody, verifySignature } from '../../../connectors/jira/webhook-signature.ts';

describe('Jira rows', () => {
  it('renders ADF to text', () => {
    const doc = { type: 'doc', content: [
      { type: 'heading', content: [{ type: 'text', text: 'Title' }] },
      { type: 'paragraph', content: [{ type: 'text', text: 'Hello ' }, { type: 'mention', attrs: { text: '@Ada' } }, { type: 'hardBreak' }, { type: 'text', text: 'next' }] },
      { type: 'bulletList', content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }] }] },
    ] };
    assert.equal(adfToText(doc), 'Title\nHello @Ada\nnext\n- one');
    assert.equal(adfToText(null), null);
    assert.equal(adfToText('wiki *text*'), 'wiki *text*');
  });

  it('partitions by created month in UTC and reads changelog items without inherited properties', () => {
    assert.equal(createdMonth('2024-01-31T23:30:00.000-0200'), '2024_02');
    const rows = issueRows({
      key: 'ADA-1', id: '1',
      fields: { created: '2024-01-01T00:00:00.000+0000', updated: '2024-01-02T00:00:00.000+0000', customfield_1: { type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'rich' }] }] }, customfield_2: null,
        issuelinks: [{ id: '7', type: { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' }, outwardIssue: { key: 'ADA-2' } }] },
      names: { customfield_1: 'Notes' },
      changelog: { histories: [{ id: '5', created: '2024-01-02T00:00:00.000+0000', items: [{ field: 'labels', from: null, to: null }] }] },
    }, [], 'api', () => null);
    assert.equal(rows.issues[0]!.custom_fields, '{"Notes":"rich"}');
    assert.equal(rows.changelog[0]!.to_string, null);
    assert.deepEqual(rows.issuelinks[0], { issue_key: 'ADA-1', link_id: '7', link_type: 'Blocks', direction: 'outward', linked_issue_key: 'ADA-2', relation: 'blocks' });
  });

  it('never turns a Jira file name into a path', () => {
    for (const name of ['../../etc/passwd', '..', 'a/b\\c', 'con:x?.txt', '\u0000evil', ' .hidden ']) {
      const safe = safeAttachmentName('10', name);
      assert.ok(!safe.includes('/') && !safe.includes('\\') && !safe.includes('..') && ![...safe].some((c) => c.charCodeAt(0) < 32), `${name} → ${safe}`);
      assert.ok(safe.startsWith('10_'));
    }
  });

  it('verifies signatures and honours Retry-After', () => {
    const body = Buffer.from('{"a":1}');
    assert.equal(verifySignature('s', body, signBody('s', body)), true);
    assert.equal(verifySignature('s', body, signBody('t', body)), false);
    assert.equal(verifySignature('s', body, 'sha256=zz'), false);
    assert.equal(verifySignature('s', body, undefined), false);
    assert.equal(retryDelayMs(0, '3'), 3000);
    assert.equal(retryDelayMs(2, null), 1000);
    assert.equal(retryDelayMs(0, '99999'), 60_000);
  });
});
