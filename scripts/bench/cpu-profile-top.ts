/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time.
 *   node dist/scripts/bench/cpu-profile-top.js <file.cpuprofile> [count=15]
 * Self time is the sampled time spent in a function's own code, not in what it calls; "(garbage
 * collector)", "(program)" and "(idle)" are V8's own buckets. A second table adds self time up by
 * package (node_modules), lib/app of this repository, or the node runtime.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

function location(url: string, line: number): string {
  if (url === '') return '';
  const file = url.replace(/^file:\/\//, '');
  const inModules = file.lastIndexOf('node_modules/');
  const shown = inModules >= 0 ? file.slice(inModules + 'node_modules/'.length) : path.relative(process.cwd(), file);
  return `${shown}:${line + 1}`;
}

/** Where a function's code lives, coarsely: a package, one of our libs/apps, node itself or V8. */
function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const inModules = file.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = file.slice(inModules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (file.startsWith('node:')) return 'node (runtime)';
  const ours = /\/dist\/((?:apps|libs|scripts)\/[^/]+)\//.exec(file);
  return ours ? ours[1]! : path.relative(process.cwd(), file);
}

function main(): void {
  const file = process.argv[2];
  const count = Number(process.argv[3] ?? 15);
  if (file === undefined || !Number.isInteger(count) || count < 1) {
    console.error('usage: node dist/scripts/bench/cpu-profile-top.js <file.cpuprofile> [count>=1]');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${file}: not a V8 CPU profile (nodes, samples, timeDeltas expected)`);
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas![i] ?? 0;
    total += dt;
    if (node === undefined) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${location(url, lineNumber)}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    const where = area(url, functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + dt);
  });
  const busy = total - (self.get('(idle)') ?? 0);
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms not idle`);
  console.log('  self ms   % busy  function');
  for (const [name, us] of [...self.entries()].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`${(us / 1000).toFixed(0).padStart(9)}  ${((us / busy) * 100).toFixed(1).padStart(6)}%  ${name}`);
  }
  console.log('  self ms   % busy  by package / lib');
  for (const [name, us] of [...byArea.entries()].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`${(us / 1000).toFixed(0).padStart(9)}  ${((us / busy) * 100).toFixed(1).padStart(6)}%  ${name}`);
  }
}

main();
