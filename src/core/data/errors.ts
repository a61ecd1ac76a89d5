/**
 * Data problems reported the way a person looks for them: file, line, column. One class for
 * every data error so that callers (CLI, screens) can show `message` as is.
 */

/** Where in a file a problem sits, as words: `pima.csv row 12, column "glucose"`. */
export function describeLocation(source: string, row?: number, column?: string): string {
  let where = source;
  if (row !== undefined) where += ` row ${row}`;
  if (column !== undefined) where += `, column ${JSON.stringify(column)}`;
  return where;
}

/** A data file that cannot be used as given. `row` is the file's line number (header = 1). */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly source: string,
    readonly row: number | undefined,
    readonly column: string | undefined,
    /** What is wrong, without the location. */
    readonly detail: string,
  ) {
    super(`${describeLocation(source, row, column)}: ${detail}`);
  }
}
