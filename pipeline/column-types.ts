/** The UPSTREAM.md mapping from declared source types to the DuckDB types we publish. */

/** DuckDB types a published column may have. */
export type PublishedType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'DATE' | 'TIMESTAMP' | 'TIMESTAMPTZ';

const MAPPING: Record<string, PublishedType> = {
  STRING: 'VARCHAR', VARCHAR: 'VARCHAR', TEXT: 'VARCHAR', CHAR: 'VARCHAR',
  INTEGER: 'BIGINT', INT: 'BIGINT', BIGINT: 'BIGINT', SMALLINT: 'BIGINT', TINYINT: 'BIGINT', INT64: 'BIGINT',
  NUMERIC: 'DOUBLE', DECIMAL: 'DOUBLE', FLOAT: 'DOUBLE', DOUBLE: 'DOUBLE', REAL: 'DOUBLE', NUMBER: 'DOUBLE', FLOAT64: 'DOUBLE',
  BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP', TIMESTAMP_NTZ: 'TIMESTAMP', DATETIME: 'TIMESTAMP',
  TIMESTAMP_TZ: 'TIMESTAMPTZ', TIMESTAMPTZ: 'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

/** Maps a declared type (any case, with optional precision such as `NUMERIC(10,2)`) to a DuckDB type; unknown or absent → VARCHAR. */
export function publishedType(declared: string | undefined): PublishedType {
  if (!declared) return 'VARCHAR';
  const base = declared.trim().toUpperCase().replace(/\(.*\)$/, '').trim();
  return MAPPING[base] ?? 'VARCHAR';
}

/** True when `declared` is a type name the mapping knows. */
export function isKnownType(declared: string): boolean {
  return declared.trim().toUpperCase().replace(/\(.*\)$/, '').trim() in MAPPING;
}

/** Normalises a DuckDB-reported type name (e.g. `TIMESTAMP WITH TIME ZONE`, `INTEGER`) to a published type. */
export function normaliseDuckType(duckType: string): PublishedType {
  const t = duckType.toUpperCase();
  // Published schemas spell it TIMESTAMPTZ; reading that as a prefix of TIMESTAMP would drop the zone.
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return 'TIMESTAMPTZ';
  if (t.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  if (t.startsWith('DECIMAL')) return 'DOUBLE';
  if (['HUGEINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT'].includes(t)) return 'BIGINT';
  if (t === 'FLOAT') return 'DOUBLE';
  return publishedType(t);
}
