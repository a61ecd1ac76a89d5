/** File access for the CLI, with errors that name the file and say what is wrong. */
import { constants } from 'node:fs';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseModel, type TernaryModel } from '../core/model/format.ts';
import { parseCsv, type NumericTable } from '../core/data/index.ts';

/** An error the user can fix; printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${path}: no such ${what} file`);
    if (code === 'EISDIR') throw new CliError(`${path}: is a directory, expected a ${what} file`);
    throw new CliError(`${path}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** A JSON file's value; `what` names the kind of file in the messages ("model", "dataset spec"). */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export async function readModelFile(path: string): Promise<TernaryModel> {
  const json = await readJsonFile(path, 'model');
  try {
    return parseModel(json);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
}

/** A CSV file as numbers: all its columns, or only those `keep` names (the rest may hold anything). */
export async function readCsvFile(path: string, keep?: readonly string[]): Promise<NumericTable> {
  return parseCsv(await readText(path, 'CSV'), basename(path), keep);
}

/** Why a file cannot be written, in words, for an error code of Node's file system calls. */
export function writeProblem(path: string, code: string | undefined): string {
  const folder = dirname(path);
  switch (code) {
    case 'ENOENT':
      return `the folder ${folder} does not exist`;
    case 'ENOTDIR':
      return `${folder} is not a folder`;
    case 'EISDIR':
      return 'is a folder; give a file name';
    case 'EACCES':
    case 'EPERM':
      return `no permission to write it (in ${folder})`;
    case 'EROFS':
      return `${folder} is on a read-only file system`;
    default:
      return `cannot write (${code ?? 'unknown error'})`;
  }
}

/**
 * Fails, in words, when `path` could not be written: its folder missing or not writable, or the
 * path a folder. Called before a command's work, so that a typo in --out costs no training.
 */
export async function checkWritable(path: string): Promise<void> {
  const fail = (code: string | undefined): never => {
    throw new CliError(`${path}: ${writeProblem(path, code)}`);
  };
  const folder = await stat(dirname(path)).catch((e: NodeJS.ErrnoException) => fail(e.code));
  if (!folder.isDirectory()) fail('ENOTDIR');
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) fail('EISDIR');
  await access(existing ? path : dirname(path), constants.W_OK).catch((e: NodeJS.ErrnoException) => fail(e.code));
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(value, null, 2) + '\n');
  } catch (e) {
    throw new CliError(`${path}: ${writeProblem(path, (e as NodeJS.ErrnoException).code)}`);
  }
}

/** Fixed-width text table for terminal output. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]?.length ?? 0)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n');
}

/** "name  value" lines with the names padded to one width. */
export function pairs(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
