/** JSON schemas of the API twins (response shapes; open objects so additions stay compatible). */

const open = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: true, properties, required } as const);

/** A table as the catalog API lists it. */
export const tableSchema = open({
  name: { type: 'string' }, id: { type: 'string' }, description: { type: 'string' }, folder: { type: 'string' }, category: { type: 'string' },
  private: { type: 'boolean' }, strategy: { type: 'string' }, published: { type: 'boolean' },
  rows: { type: 'number' }, bytes: { type: 'number' }, files: { type: 'number' }, publishedAt: { type: 'string' },
  columns: { type: 'array', items: open({ name: { type: 'string' }, type: { type: 'string' }, description: { type: 'string' } }) },
}, ['name', 'folder', 'rows', 'columns']);

/** GET /api/dashboard */
export const dashboardSchema = open({
  instance: open({ name: { type: 'string' }, subtitle: { type: 'string' } }),
  stats: open({ tables: { type: 'number' }, columns: { type: 'number' }, rows: { type: 'number' }, bytes: { type: 'number' }, lastUpdate: { type: ['string', 'null'] } }),
  freshness: { type: 'array', items: open({ table: { type: 'string' }, publishedAt: { type: ['string', 'null'] }, ageHours: { type: ['number', 'null'] } }) },
  health: open({ status: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } } }),
  datasets: { type: 'array', items: open({ key: { type: 'string' }, label: { type: 'string' }, subscribed: { type: 'boolean' } }) },
  getStarted: { type: 'array', items: { type: 'string' } },
}, ['stats', 'freshness', 'health']);

/** GET /api/catalog */
export const catalogSchema = open({
  categories: { type: 'array', items: open({ folder: { type: 'string' }, label: { type: 'string' }, tables: { type: 'array', items: tableSchema } }) },
  total: { type: 'number' },
}, ['categories', 'total']);

/** GET /api/catalog/:table */
export const tableDetailSchema = open({
  table: tableSchema,
  profile: { type: ['object', 'null'], additionalProperties: true },
  related: { type: 'array', items: open({ table: { type: 'string' }, direction: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }) },
  history: { type: 'array', items: open({ at: { type: 'string' }, rows: { type: 'number' }, bytes: { type: 'number' } }) },
  metrics: { type: 'array', items: open({ id: { type: 'string' }, name: { type: 'string' } }) },
  sql: { type: 'string' },
}, ['table']);

/** GET /api/metrics */
export const metricsSchema = open({
  metrics: { type: 'array', items: open({ id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, sql: { type: 'string' }, tables: { type: 'array', items: { type: 'string' } } }) },
}, ['metrics']);

/** GET /api/events */
export const eventsSchema = open({
  events: { type: 'array', items: { type: 'object', additionalProperties: true } },
  head: { type: 'number' },
}, ['events']);

/** GET /api/account */
export const accountSchema = open({
  name: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, sshKeyFingerprint: { type: 'string' }, sshKey: { type: 'string' }, sshKeyType: { type: 'string' },
  tokens: { type: 'array', items: open({ tokenId: { type: 'string' }, issuedAt: { type: 'string' } }) },
  datasets: { type: 'array', items: open({ key: { type: 'string' }, label: { type: 'string' }, subscribed: { type: 'boolean' }, requires: { type: 'array', items: { type: 'string' } } }) },
}, ['name', 'role', 'tokens', 'datasets']);

/** GET /api/admin */
export const adminSchema = open({
  analysts: { type: 'array', items: open({ name: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, sshKeyFingerprint: { type: 'string' }, source: { type: 'string' }, tokens: { type: 'number' } }) },
  running: { type: 'array', items: { type: 'string' } },
}, ['analysts']);

/** Error answers. */
export const errorSchema = open({ code: { type: 'string' }, message: { type: 'string' } }, ['code', 'message']);
