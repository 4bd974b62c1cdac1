import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The part of nest-cli.json this repository relies on. */
export interface NestCliProject {
  type?: unknown;
  root?: unknown;
  sourceRoot?: unknown;
  entryFile?: unknown;
  compilerOptions?: { tsConfigPath?: unknown };
}
export interface NestCliConfig {
  monorepo?: unknown;
  root?: unknown;
  sourceRoot?: unknown;
  compilerOptions?: { builder?: unknown; tsConfigPath?: unknown };
  generateOptions?: { spec?: unknown };
  projects?: Record<string, NestCliProject>;
}

export function readNestCli(repoRoot: string): NestCliConfig {
  return JSON.parse(readFileSync(path.join(repoRoot, 'nest-cli.json'), 'utf8')) as NestCliConfig;
}

/** Application projects of nest-cli.json, by name. */
export function nestApps(config: NestCliConfig): string[] {
  return Object.entries(config.projects ?? {})
    .filter(([, project]) => project.type === 'application')
    .map(([name]) => name)
    .sort();
}

function subdirectories(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Everything that keeps `nest build|start|generate` from working on this layout, one line per
 * problem naming the nest-cli.json path: an app or lib directory that is not a project, a project
 * whose root, sourceRoot, entry file or tsconfig is missing, or a project tsconfig that would emit
 * somewhere else than `npm run build` does (outDir dist/, rootDir the repository root).
 */
export function nestCliProblems(repoRoot: string, config: NestCliConfig): string[] {
  const problems: string[] = [];
  if (config.monorepo !== true) problems.push('monorepo: must be true');
  if (config.generateOptions?.spec !== false) problems.push('generateOptions.spec: must be false (tests live in test/, on node:test, not *.spec.ts beside the sources)');
  const builder = config.compilerOptions?.builder;
  if (builder !== 'tsc') problems.push(`compilerOptions.builder: must be "tsc" (README "Developing"), got ${JSON.stringify(builder)}`);
  const projects = config.projects ?? {};

  for (const [folder, type] of [['apps', 'application'], ['libs', 'library']] as const) {
    for (const name of subdirectories(path.join(repoRoot, folder))) {
      const project = projects[name];
      if (!project) problems.push(`projects.${name}: ${folder}/${name} exists on disk but is not a project in nest-cli.json`);
      else if (project.type !== type) problems.push(`projects.${name}.type: must be "${type}" (it lives in ${folder}/), got ${JSON.stringify(project.type)}`);
      else if (project.root !== `${folder}/${name}`) problems.push(`projects.${name}.root: must be "${folder}/${name}", got ${JSON.stringify(project.root)}`);
    }
  }

  for (const [name, project] of Object.entries(projects)) {
    const at = `projects.${name}`;
    const root = str(project.root);
    const sourceRoot = str(project.sourceRoot);
    const entryFile = str(project.entryFile);
    const tsConfigPath = str(project.compilerOptions?.tsConfigPath);
    if (project.type !== 'application' && project.type !== 'library') problems.push(`${at}.type: must be "application" or "library", got ${JSON.stringify(project.type)}`);
    if (!root || !isDir(path.join(repoRoot, root))) problems.push(`${at}.root: directory ${JSON.stringify(project.root)} does not exist`);
    const sourceRootExists = sourceRoot !== undefined && isDir(path.join(repoRoot, sourceRoot));
    if (!sourceRootExists) problems.push(`${at}.sourceRoot: directory ${JSON.stringify(project.sourceRoot)} does not exist`);
    else if (root && sourceRoot !== `${root}/src`) problems.push(`${at}.sourceRoot: must be "${root}/src" (where nest generate puts files), got "${sourceRoot}"`);
    const entry = sourceRootExists && entryFile ? path.join(repoRoot, sourceRoot, `${entryFile}.ts`) : undefined;
    if (!entryFile) problems.push(`${at}.entryFile: missing`);
    else if (entry && !existsSync(entry)) problems.push(`${at}.entryFile: ${sourceRoot}/${entryFile}.ts does not exist`);
    if (!tsConfigPath) {
      problems.push(`${at}.compilerOptions.tsConfigPath: missing`);
      continue;
    }
    const configFile = path.join(repoRoot, tsConfigPath);
    if (!existsSync(configFile)) {
      problems.push(`${at}.compilerOptions.tsConfigPath: ${tsConfigPath} does not exist`);
      continue;
    }
    problems.push(...tsconfigProblems(repoRoot, configFile, `${at}.compilerOptions.tsConfigPath (${tsConfigPath})`, entry));
  }

  const defaultRoot = str(config.root);
  const defaultProject = Object.values(projects).find((p) => p.root === defaultRoot && p.type === 'application');
  if (!defaultProject) problems.push(`root: ${JSON.stringify(config.root)} is not the root of an application project`);
  else if (config.sourceRoot !== defaultProject.sourceRoot) problems.push(`sourceRoot: must be the default app's sourceRoot ${JSON.stringify(defaultProject.sourceRoot)}`);
  return problems;
}

/** A project's tsconfig must compile with the options of `npm run build` into the same layout. */
function tsconfigProblems(repoRoot: string, configFile: string, at: string, entry: string | undefined): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => undefined,
  });
  if (!parsed) return [`${at}: cannot be read`];
  const problems = parsed.errors.map((d) => `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  const o = parsed.options;
  const same = (a: string | undefined, b: string): boolean => a !== undefined && path.resolve(a) === path.resolve(b);
  if (!same(o.outDir, path.join(repoRoot, 'dist'))) problems.push(`${at}: outDir must be <repo>/dist as in tsconfig.json (one output layout), got ${String(o.outDir)}`);
  if (!same(o.rootDir, repoRoot)) problems.push(`${at}: rootDir must be the repository root as in tsconfig.json (dist/apps/<app>/src/main.js), got ${String(o.rootDir)}`);
  if (o.strict !== true) problems.push(`${at}: strict must be on`);
  if (o.experimentalDecorators !== true || o.emitDecoratorMetadata !== true) problems.push(`${at}: experimentalDecorators and emitDecoratorMetadata must be on (Nest injection reads the metadata)`);
  if (entry && !parsed.fileNames.some((f) => path.resolve(f) === entry)) problems.push(`${at}: does not include the entry file ${path.relative(repoRoot, entry)}`);
  return problems;
}
