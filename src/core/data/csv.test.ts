import { describe, expect, it } from 'vitest';
import { decimalPoint, parseCsv, readCsv } from './csv.ts';
import { DataError } from './errors.ts';

/** The DataError a call throws, for asserting on its fields. */
function dataErrorOf(f: () => unknown): DataError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseCsv', () => {
  it('reads numbers, empty cells as null, and skips blank lines', () => {
    const table = parseCsv('age,glucose,label\n50,,1\n\n61.5,1e2,0\n', 'x.csv');
    expect(table.columns).toEqual(['age', 'glucose', 'label']);
    expect(table.rows).toEqual([[50, null, 1], [61.5, 100, 0]]);
    expect(table.lines).toEqual([2, 4]);
  });

  it('handles CRLF, a byte-order mark and spaces around values', () => {
    const table = parseCsv('\uFEFFa,b\r\n 1 , -2 \r\n', 'x.csv');
    expect(table.columns).toEqual(['a', 'b']);
    expect(table.rows).toEqual([[1, -2]]);
  });

  it('refuses an empty file', () => {
    const e = dataErrorOf(() => parseCsv('', 'empty.csv'));
    expect(e.message).toBe('empty.csv: the file is empty (expected a header line and data rows)');
    expect(e.row).toBeUndefined();
    expect(parseCsv.bind(null, '\n\n  \n', 'blank.csv')).toThrow('blank.csv: the file is empty');
  });

  it('refuses a header without data rows', () => {
    const e = dataErrorOf(() => parseCsv('age,label\n', 'header.csv'));
    expect(e.message).toBe('header.csv: has a header but no data rows');
    expect(e.source).toBe('header.csv');
  });

  it('names the line and first missing column of a short row', () => {
    const e = dataErrorOf(() => parseCsv('age,glucose,label\n50,80,1\n\n61,90\n', 'ragged.csv'));
    expect(e.row).toBe(4);
    expect(e.column).toBe('label');
    expect(e.message).toBe('ragged.csv row 4, column "label": has 2 values but the header has 3 columns (no value for "label")');
  });

  it('refuses a row with too many values', () => {
    const e = dataErrorOf(() => parseCsv('a,b\n1,2\n1,2,3\n', 'long.csv'));
    expect(e.message).toBe('long.csv row 3: has 3 values but the header has 2 columns');
  });

  it('names file, line and column of a non-number', () => {
    const e = dataErrorOf(() => parseCsv('age,glucose\n1,2\n3,4\n5,abc\n', 'framingham.csv'));
    expect([e.source, e.row, e.column]).toEqual(['framingham.csv', 4, 'glucose']);
    expect(e.message).toBe('framingham.csv row 4, column "glucose": "abc" is not a number');
  });

  it('counts lines inside quoted cells that span lines', () => {
    const e = dataErrorOf(() => parseCsv('w,x\n"1\n",1\n2,zz\n', 'quoted.csv'));
    expect(e.message).toBe('quoted.csv row 4, column "x": "zz" is not a number');
  });

  it('refuses hexadecimal and other forms Number() would accept', () => {
    expect(() => parseCsv('a\n0x10\n', 'hex.csv')).toThrow('hex.csv row 2, column "a": "0x10" is not a number');
    expect(() => parseCsv('a\nInfinity\n', 'inf.csv')).toThrow('"Infinity" is not a number');
  });

  it('refuses duplicate and empty column names', () => {
    const e = dataErrorOf(() => parseCsv('age,bmi,age\n1,2,3\n', 'dup.csv'));
    expect(e.message).toBe('dup.csv row 1, column "age": appears twice in the header (columns 1 and 3)');
    expect(() => parseCsv('age,,bmi\n1,2,3\n', 'noname.csv')).toThrow('noname.csv row 1: column 2 of the header has no name');
  });

  it('keeps ragged rows as text in readCsv (validation reports them per row)', () => {
    const table = readCsv('a,b\n1\n2,3\n', 'x.csv');
    expect(table.rows).toEqual([['1'], ['2', '3']]);
  });
});

describe('parseCsv of some columns', () => {
  it('reads only the columns asked for, in the file\'s order, whatever the others hold', () => {
    const table = parseCsv('id,b,note,a\nP1,2,"seen, twice",1\nP2,,x,3\n', 'f.csv', ['a', 'b']);
    expect(table.columns).toEqual(['b', 'a']);
    expect(table.rows).toEqual([[2, 1], [null, 3]]);
  });

  it('still refuses a non-number in a column asked for, and a ragged row anywhere', () => {
    expect(() => parseCsv('id,a\nP1,x\n', 'f.csv', ['a'])).toThrow('f.csv row 2, column "a": "x" is not a number');
    expect(() => parseCsv('id,a\nP1\n', 'f.csv', ['id'])).toThrow(DataError);
  });
});

describe('readCsv: decimal commas and semicolons', () => {
  it('reads a semicolon-delimited file with decimal commas as numbers', () => {
    const table = readCsv('age;chol;bmi\n52;5,2;27,25\n61;-0,5;,5\n', 'eu.csv');
    expect(table.columns).toEqual(['age', 'chol', 'bmi']);
    expect(table.rows).toEqual([['52', '5.2', '27.25'], ['61', '-0.5', '.5']]);
    expect(table.delimiter).toBe(';');
    expect(table.decimalComma).toBe(true);
    expect(parseCsv('age;chol\n52;5,2\n', 'eu.csv').rows).toEqual([[52, 5.2]]);
  });

  it('reads a tab-delimited file with decimal commas', () => {
    expect(parseCsv('a\tb\n1,5\t2\n', 'x.tsv').rows).toEqual([[1.5, 2]]);
  });

  it('leaves a comma-delimited file and a semicolon file with decimal points as written', () => {
    const comma = readCsv('a,b\n1.5,2\n', 'x.csv');
    expect(comma.decimalComma).toBe(false);
    expect(comma.rows).toEqual([['1.5', '2']]);
    const points = readCsv('a;b\n1.5;2\n', 'x.csv');
    expect(points.delimiter).toBe(';');
    expect(points.rows).toEqual([['1.5', '2']]);
  });

  it('names the row and column of a cell that is still not a number', () => {
    const error = dataErrorOf(() => parseCsv('a;b\n1,5;2\n3;1.234,5\n', 'eu.csv'));
    expect(error.row).toBe(3);
    expect(error.column).toBe('b');
    expect(error.message).toContain('"1.234,5" is not a number');
  });
});

describe('decimalPoint', () => {
  it('turns a decimal comma into a point and leaves other text alone', () => {
    expect(decimalPoint('1,5')).toBe('1.5');
    expect(decimalPoint('abc')).toBe('abc');
    expect(decimalPoint('1,2,3')).toBe('1,2,3');
  });
});
