/**
 * The real server in a child process, for tests that measure the server alone (its memory is
 * then not mixed with the test client's). Settings come as JSON in argv[2]; the first stdout
 * line is the URL; SIGTERM stops it cleanly. Asked over IPC, it collects its main thread's
 * garbage and reports its resident memory, so that transient request buffers do not blur the
 * measure.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../../src/server/config.ts';

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resident memory of the server process after a main-thread GC, MiB (Linux). */
  rssMiB(): Promise<number>;
  /** Settles when the process has exited, with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal without waiting (stop() sends SIGTERM and waits). */
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /**
   * Wraps the server's command line (program first) in another, e.g. `unshare` to run the
   * server on a file system the test prepares (tests/support/namespace.ts). The wrapper must
   * end by exec-ing the command it was given, so that signals and IPC reach the server, and
   * must write nothing to stdout (its first line is the server's URL).
   */
  launch?: (argv: readonly string[]) => readonly string[];
}

export async function spawnServer(overrides: Partial<ServerConfig>, options: SpawnOptions = {}): Promise<ServerProcess> {
  // MALLOC_ARENA_MAX=2 as docs/server.md recommends for deployment: fewer per-thread malloc
  // arenas, less fragmentation across the worker threads.
  const env = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
  const argv = [process.execPath, '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(overrides)];
  const [program, ...args] = options.launch ? options.launch(argv) : argv;
  const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then(({ code, signal }) => reject(new Error(`the server process exited with ${code ?? signal}`)));
    child.stdout!.once('data', (d) => resolve(String(d).trim()));
  });
  let asked = 0;
  return {
    url,
    pid: child.pid!,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    rssMiB: () => {
      const id = ++asked;
      return new Promise<number>((resolve) => {
        const answer = (m: unknown) => {
          const [replyTo, mib] = m as [number, number];
          if (replyTo !== id) return;
          child.off('message', answer);
          resolve(mib);
        };
        child.on('message', answer);
        child.send(id);
      });
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startTestServer } = await import('./server-harness.ts');
  const server = await startTestServer(JSON.parse(process.argv[2] ?? '{}'));
  process.on('message', (id) => {
    (globalThis as { gc?: () => void }).gc?.();
    const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    process.send!([id, kib / 1024]);
  });
  process.stdout.write(server.url + '\n');
  process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}
