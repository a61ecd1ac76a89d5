/**
 * How every parser of ours (model files, dataset specs, plans, messages, manifests, the server's
 * environment) words a value its zod schema refuses: the first problem, where it is and what is
 * wrong, in one line a person can act on. One home, so that all of them say it the same way.
 */
import type { z } from 'zod';

/** `<path>: <problem>` for the first issue, `root` standing for the path when the whole value is wrong. */
export function firstIssue(error: z.ZodError, root: string): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || root}: ${issue.message}`;
}
