/** A mistake in the command line: printed with the usage, exit code 2. Its own file, so a command can throw it without loading others. */
export class UsageError extends Error {}
