/**
 * Real storage faults without root tricks: the server runs inside its own user and mount
 * namespace (`unshare -rm`), where it is "root" and may mount a small tmpfs over its data
 * folder — filled to the brim (ENOSPC) or remounted read-only (EROFS). Nothing outside the
 * namespace changes; the test reads the namespace's files through /proc/<pid>/root.
 * (chmod is no fault here: root, in CI containers, ignores it.)
 */
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Why namespaces cannot be used here, or undefined when `unshare -rm` can mount a tmpfs. */
export function namespaceUnavailable(): string | undefined {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && mount -o remount,ro "$d" && umount "$d"; rc=$?; rmdir "$d" 2>/dev/null; exit $rc'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) return `unshare is not available (${probe.error.message})`;
  if (probe.status !== 0) return `unshare -rm cannot mount a tmpfs here: ${(probe.stderr || '').trim() || `exit ${probe.status}`}`;
  return undefined;
}

export interface TmpfsSetup {
  /** Mount point (created by the caller; it must exist outside the namespace too). */
  dir: string;
  sizeKiB: number;
  /** Copied into the tmpfs before anything else (e.g. a data folder prepared by an earlier server). */
  seedFrom?: string;
  /** Fill the tmpfs with a filler file until this many KiB are left. */
  leaveKiB?: number;
  /** Remount the tmpfs read-only before the server starts. */
  readOnly?: boolean;
}

/**
 * A `launch` for spawnServer: the server's command line, run after the tmpfs is mounted and
 * prepared. Every setup command writes to stderr only; the last step execs the server.
 */
export function tmpfsLaunch(setup: TmpfsSetup): (argv: readonly string[]) => readonly string[] {
  const d = quote(setup.dir);
  const steps = [`mount -t tmpfs -o size=${setup.sizeKiB}k tmpfs ${d}`];
  if (setup.seedFrom) steps.push(`cp -a ${quote(setup.seedFrom)}/. ${d}/`);
  steps.push(`mkdir -p ${d}/keys`);
  if (setup.leaveKiB !== undefined) {
    // Fill to ENOSPC (dd fails then, as intended), then give back leaveKiB.
    steps.push(`{ dd if=/dev/zero of=${d}/filler bs=64k 2>/dev/null; true; }`, `truncate -s -${setup.leaveKiB}K ${d}/filler`);
  }
  if (setup.readOnly) steps.push(`mount -o remount,ro ${d}`);
  return (argv) => ['unshare', '-rm', 'sh', '-c', `${steps.join(' 1>&2 && ')} 1>&2 && exec ${argv.map(quote).join(' ')}`];
}

/** The names in `dir` as the process `pid` sees them (inside its mount namespace). */
export function filesSeenBy(pid: number, dir: string): Promise<string[]> {
  return readdir(join(`/proc/${pid}/root`, dir));
}

/** A path in the process's mount namespace, to read or change from outside. */
export function pathSeenBy(pid: number, path: string): string {
  return join(`/proc/${pid}/root`, path);
}
