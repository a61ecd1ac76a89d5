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

/** What each command takes, and the help `cipherclinic <command> --help` prints. */
const COMMANDS: Record<string, { options: readonly string[]; help: string }> = {
  train: {
    options: ['out', 'label', 'hidden', 'epochs', 'batch-size', 'seed', 'repeats', 'spec', 'json'],
    help: `usage: cipherclinic train <data.csv> --out <model.json> [options]
Trains logistic regression, a float MLP and the TernaryNet on one stratified 80/20 split and
writes the TernaryNet as a model file (docs/training.md).
  --out FILE        where the model file goes (not the data or the spec)
  --spec FILE       a dataset spec (models/specs/*.json): features, their ranges and declared
                    directions of risk, and the training settings; without it every column but
                    the label is a feature, its range read from the data
  --label NAME      the 0/1 label column; overrides the spec's "label" (default: the spec's, else "label")
  --hidden N        hidden units (default 8)
  --epochs N        epochs of each training stage (default 60)
  --batch-size N    rows per step (default: a 32nd of the fitting rows, at least 32)
  --seed S          the split and every initialization (default 42): the same seed, the same model
  --repeats N       first score the three models on N more splits (seeds 1..N): mean, spread and
                    worst split of accuracy, balanced accuracy, ROC AUC and Brier score
  --json            one JSON object on stdout instead of tables`,
  },
  plan: {
    options: ['layout', 'json'],
    help: `usage: cipherclinic plan <model.json> [--layout batch|single] [--json]
Compiles the model's encryption plan: parameters, key and ciphertext sizes, operation counts.
  --layout batch|single   many records per ciphertext (default), or one record
  --json                  one JSON object on stdout`,
  },
  eval: {
    options: ['encrypted', 'layout', 'label', 'all-rows', 'json'],
    help: `usage: cipherclinic eval <model.json> <data.csv> [options]
Scores a model on a CSV file through the plaintext reference (what the service computes).
On the data the model was split from (the rows' SHA-256 it records), only its held-out rows
are scored; only the model's feature and label columns are read as numbers (an id column may hold text).
  --encrypted             also score every record under real encryption (SEAL) and compare
  --layout batch|single   the encrypted layout (default batch)
  --label NAME            the 0/1 label column (default: the one the model was trained with)
  --all-rows              score every row, even those that trained the model (inflated)
  --json                  one JSON object on stdout`,
  },
  serve: { options: [], help: 'usage: cipherclinic serve\nRuns the service; HOST, PORT and more come from the environment (docs/server.md).' },
};

function layoutOf(command: string, value: string | undefined): LayoutName {
  const layout = value ?? 'batch';
  if (layout !== 'batch' && layout !== 'single') throw new UsageError(command, `--layout must be "batch" or "single", not "${layout}"`);
  return layout;
}

/** An integer option written in digits, at least `min`; absent stays undefined (the command's default applies). */
function integerOf(command: string, name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(command, `--${name} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

/** Refuses an option that belongs to another command (it would be ignored without a word). */
function checkOptionsOf(command: string, values: Record<string, unknown>): void {
  const allowed = COMMANDS[command]?.options;
  if (!allowed) return;
  for (const [name, value] of Object.entries(values)) {
    if (name === 'help' || value === undefined || value === false || allowed.includes(name)) continue;
    const owners = Object.keys(COMMANDS).filter((c) => COMMANDS[c]!.options.includes(name));
    throw new UsageError(command, `--${name} is not an option of ${command}${owners.length ? ` (it belongs to ${owners.join(' and ')})` : ''} (see cipherclinic ${command} --help)`);
  }
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
    console.log((command && COMMANDS[command]?.help) || USAGE);
    return;
  }
  checkOptionsOf(command, values);
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
        hidden: integerOf(command, 'hidden', values.hidden, 1),
        epochs: integerOf(command, 'epochs', values.epochs, 1),
        batchSize: integerOf(command, 'batch-size', values['batch-size'], 1),
        seed: integerOf(command, 'seed', values.seed),
        repeats: integerOf(command, 'repeats', values.repeats, 1),
        spec: values.spec,
        json: values.json!,
      });
    case 'plan':
      need(1, 'one model file');
      return (await import('./plan.ts')).planCommand(args[0]!, layoutOf(command, values.layout), values.json!);
    case 'eval':
      need(2, 'a model file and a CSV file');
      return (await import('./eval.ts')).evalCommand(args[0]!, args[1]!, { encrypted: values.encrypted!, layout: layoutOf(command, values.layout), label: values.label, allRows: values['all-rows']!, json: values.json! });
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
