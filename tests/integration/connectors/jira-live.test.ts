import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JiraClient } from '../../../connectors/jira/client.ts';
import { FieldCatalogue, fetchFullIssue } from '../../../connectors/jira/fetch-issue.ts';
import { issueRows } from '../../../connectors/jira/rows.ts';

const domain = process.env.JIRA_TEST_DOMAIN;
const email = process.env.JIRA_TEST_EMAIL;
const token = process.env.JIRA_TEST_TOKEN;

describe('Jira Cloud (live)', { skip: !(domain && email && token) && 'set JIRA_TEST_DOMAIN, JIRA_TEST_EMAIL and JIRA_TEST_TOKEN to run' }, () => {
  it('finds the most recently updated issue and fetches it in full', async () => {
    const client = new JiraClient({ baseUrl: `https://${domain!.replace(/^https?:\/\//, '')}`, email, apiToken: token });
    const page = await client.postJson<{ issues: Array<{ key: string }> }>('/rest/api/3/search/jql', { jql: 'updated >= -3650d ORDER BY updated DESC', maxResults: 1, fields: ['updated'] });
    assert.ok(page.issues.length > 0, 'the site has at least one issue the account can see');
    const full = await fetchFullIssue(client, page.issues[0]!.key, { catalogue: new FieldCatalogue(client) });
    assert.ok(full);
    const rows = issueRows(full.issue, [], 'api', () => null);
    assert.equal(rows.issues[0]!.issue_key, page.issues[0]!.key);
    assert.equal(typeof rows.issues[0]!.created, 'number');
  });
});
