/** The Parquet options of ada's COPY statements, by what identifies the file they write. */

/**
 * Parquet options of every COPY whose bytes identify the file (replaces, partition rewrites). Snappy is DuckDB's
 * default codec (the fastest to write, and what a bare COPY uses); it is named here so published bytes do not change
 * if the default does, since a replay must write these files byte for byte as the live publish did.
 */
export const PARQUET_COPY_OPTIONS = 'FORMAT parquet, COMPRESSION snappy';

/**
 * Parquet options of a file that no replay writes again: a merge, identified by its rows, not its bytes (see mergeSql
 * in write-table.ts), and a connector's staged chunk, a blob that the log names by its hash and a replay reuses as it
 * is. Their encoding may therefore change between versions. Format version 2's encodings (delta-packed integers and
 * timestamps, split floats, delta lengths for strings that dictionaries do not fit) against version 1's plain ones:
 * - the benchmark's 5M-row merge (2 cores): the COPY about 15 % less CPU, the file 149 → 101 MB (so less to hash,
 *   fsync, read back and pull), and a full decode of it 40 % less CPU for the next merge;
 * - its 5M-row CSV staged (five alternating pairs): the COPY 2.99 → 2.73 s and 5.6 → 5.2 s of CPU, the file
 *   147 → 99 MB; a single chunk is what a full refresh publishes, by hard link.
 * DuckDB, pyarrow, polars and arrow-rs read them.
 */
export const V2_COPY_OPTIONS = `${PARQUET_COPY_OPTIONS}, PARQUET_VERSION v2`;
