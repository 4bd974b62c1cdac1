import path from 'node:path';

/** The checkout's root, from a compiled script in dist/scripts/<folder>/. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Runs a script's main: an error is printed and makes the exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
