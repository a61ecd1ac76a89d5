/**
 * cipherclinic: train TernaryNet models, compile their encryption plans, and evaluate them in
 * plaintext or under real encryption. Errors are one line on stderr and a non-zero exit.
 */
import { parseCommandArgs, UsageError } from './args.ts';
import { CliError } from './io.ts';
import type { LayoutName } from '../core/he/index.ts';

const USAGE = `usage:
  cipherclinic serve                      (HOST, PORT and more from the environment: docs/server.md)
  cipherclinic train <data.csv> --out <model.json> [--label label] [--hidden N] [--epochs N] [--batch-size N] [--seed S] [--repeats N] [--spec spec.json] [--json]
  cipherclinic plan <model.json> [--layout batch|single] [--json]
  cipherclinic eval <model.json> <data.csv> [--encrypted] [--layout batch|single] [--label label] [--all-rows] [--json]
  cipherclinic study create <manifest.json> --url <service>   (CIPHERCLINIC_ADMIN_TOKEN in the environment)
  cipherclinic study status|stop <id> --url <service> [--json]
  cipherclinic site keygen --out <site.key>
  cipherclinic site join <service> --study <id> --data <site.csv> --identity <site.key> [--study-hash <hash>]

train --label: the 0/1 label column; given, it overrides the spec's "label" (default: the spec's, else "label")
eval: on the data the model was split from (the rows' SHA-256 it records), only its held-out rows are scored (--all-rows: every row)`;

function layoutOf(value: string | undefined): LayoutName {
  const layout = value ?? 'batch';
  if (layout !== 'batch' && layout !== 'single') throw new CliError(`--layout must be "batch" or "single", not "${layout}"`);
  return layout;
}

/** An integer option, at least `min`; absent stays undefined (the command's default applies). */
function integerOf(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`--${name} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  // Studies and sites parse their own options (src/cli/study.ts).
  if ((argv[0] === 'study' || argv[0] === 'site') && (argv.includes('--help') || argv.includes('-h'))) return console.log(USAGE);
  if (argv[0] === 'study') return (await import('./study.ts')).studyCommand(argv.slice(1));
  if (argv[0] === 'site') return (await import('./study.ts')).siteCommand(argv.slice(1));
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: 'string' },
      label: { type: 'string' }, // train: overrides the spec's label, default 'label'; eval: the model's own label column
      hidden: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      repeats: { type: 'string' },
      spec: { type: 'string' },
      layout: { type: 'string' },
      encrypted: { type: 'boolean', default: false },
      'all-rows': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    (positionals) => positionals[0] ?? '',
  );
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new CliError(`${command} needs ${what}\n${USAGE}`);
  };
  switch (command) {
    case 'train':
      need(1, 'one CSV file');
      if (!values.out) throw new CliError('train needs --out <model.json>');
      // Each command loads only its own code: `serve` never loads TensorFlow.js, whose objects
      // would double the server's heap and so the cost of every garbage collection.
      return (await import('./train.ts')).trainCommand(args[0]!, {
        out: values.out,
        label: values.label,
        hidden: integerOf('hidden', values.hidden, 1),
        epochs: integerOf('epochs', values.epochs, 1),
        batchSize: integerOf('batch-size', values['batch-size'], 1),
        seed: integerOf('seed', values.seed),
        repeats: integerOf('repeats', values.repeats, 1),
        spec: values.spec,
        json: values.json!,
      });
    case 'plan':
      need(1, 'one model file');
      return (await import('./plan.ts')).planCommand(args[0]!, layoutOf(values.layout), values.json!);
    case 'eval':
      need(2, 'a model file and a CSV file');
      return (await import('./eval.ts')).evalCommand(args[0]!, args[1]!, { encrypted: values.encrypted!, layout: layoutOf(values.layout), label: values.label, allRows: values['all-rows']!, json: values.json! });
    case 'serve':
      need(0, 'no arguments');
      return (await import('../server/main.ts')).serveFromEnv();
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  // Every expected failure carries a message meant for people; stack traces only on request.
  const error = e as Error;
  const usage = e instanceof UsageError;
  console.error(`cipherclinic${usage && e.command ? ` ${e.command}` : ''}: ${error.message ?? String(e)}`);
  if (process.env.CIPHERCLINIC_DEBUG) console.error(error.stack);
  process.exitCode = usage ? e.exitCode : 1;
}
