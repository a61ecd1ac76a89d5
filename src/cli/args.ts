/**
 * Command-line options, parsed by Node's parseArgs, whose own errors are raw ("Unknown option
 * '--bogus'. To specify a positional argument …" with an unbalanced quote). Here a mistake is
 * one line that names the command, the option and where help is, with exit code 2.
 */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { CliError } from './io.ts';

/** A mistake in how a command was called: printed as `cipherclinic <command>: …`, exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  readonly exitCode = 2;
  constructor(
    /** The command as typed (`train`, `site keygen`), or '' before one is known. */
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

/** What is wrong with the first option the strict parse refused, read from the tokens of a lenient one. */
function optionProblem(args: string[], options: ParseArgsOptionsConfig): string | undefined {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (!spec) return `unknown option ${t.rawName}`;
    if (spec.type === 'string' && t.value === undefined) return `${t.rawName} needs a value`;
    if (spec.type === 'string' && !t.inlineValue && t.value!.startsWith('-')) return `${t.rawName} needs a value before ${t.value}`;
    if (spec.type === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`;
  }
  return undefined;
}

/**
 * parseArgs with positionals allowed; a refused option throws UsageError naming the command
 * (`commandOf` the positionals, e.g. the first) and its help.
 */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T, commandOf: (positionals: string[]) => string) {
  try {
    return parseArgs({ args, options, allowPositionals: true });
  } catch (e) {
    if (!(e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) throw e;
    const { positionals } = parseArgs({ args, options, allowPositionals: true, strict: false });
    const command = commandOf(positionals);
    const problem = optionProblem(args, options) ?? (e as Error).message.split('\n')[0]!;
    throw new UsageError(command, `${problem} (see cipherclinic ${command ? `${command} ` : ''}--help)`);
  }
}
