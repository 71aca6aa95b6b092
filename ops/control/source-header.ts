/** Header naming the command that asks (`cli:analyst`): the `source` of the events recorded for it. */
export const SOURCE_HEADER = 'x-ada-source';
