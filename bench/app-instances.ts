import { fork, type ChildProcess } from 'node:child_process';

/**
 * Forks `script` with `--instance` (its app-instance role) and resolves with the child and
 * the base URL it sends once it listens. Benchmarks run instances as processes so they
 * contend like replicas do, not as one event loop.
 */
export function forkInstance(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(script, ['--instance'], { execArgv: ['-r', '@swc-node/register'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve({ child, url: m.url }));
    child.once('exit', (code) => reject(new Error(`instance exited with ${code} before listening`)));
  });
}

/** Asks an instance to close (any message), and kills it if it has not exited within 10 s. */
export async function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The child's side of `forkInstance`: reports `url` to the parent, exits when the parent
 * dies, and on the parent's stop message runs `close` and exits (1 if closing failed, so
 * the failure is printed rather than lost as an unhandled rejection).
 */
export function serveParent(url: string, close: () => Promise<unknown>): void {
  process.send!({ url });
  process.once('disconnect', () => process.exit(1)); // the bench died: do not outlive it
  process.once('message', () => {
    close().then(
      () => process.exit(0),
      (error) => {
        console.error('closing the instance failed:', error);
        process.exit(1);
      },
    );
  });
}
