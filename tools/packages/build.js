#!/usr/bin/env node
'use strict';
// Builds the publishable npm packages into dist/packages/<dir>/ (see docs/architecture.md,
// "Packages outside the repository"). The workspace keeps `main: src/index.ts`: this writes
// separate package folders, so developing inside the monorepo needs no build at all.
//
//   node tools/packages/build.js [--skip-tsc] [--allow-type-errors] [--pack <dir>]
//
// 1. one tsc emit over libs/ and services/ (CommonJS + .d.ts) into dist/.build;
// 2. for every @weft package reachable from @weft/sdk and @weft/cli: copy its compiled files,
//    generate an ES module entry (explicit named exports over the CommonJS build: one instance
//    of every class whichever way it is imported), and a package.json whose dependencies are
//    read from the compiled code (bare require/import specifiers), versions from the root
//    package.json (third party) or this release (@weft/*);
// 3. with --pack <dir>: `npm pack` each into <dir> and print the tarball paths as JSON.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD = path.join(ROOT, 'dist', '.build');
const OUT = path.join(ROOT, 'dist', 'packages');
const ROOTS = ['@weft/sdk', '@weft/cli'];
// Modules loaded by name at run time, which no import shows: TypeORM's PostgreSQL driver, Nest's
// HTTP adapter (and its peer rxjs), and the TypeScript hook `weft run x.ts` / `--actions x.ts` need.
const IMPLICIT = {
  '@weft/db': ['pg'],
  '@weft/platform': ['@nestjs/platform-express', 'rxjs'],
  '@weft/cli': ['@swc-node/register', '@swc/core'],
};
const rootPkg = readJson(path.join(ROOT, 'package.json'));
const NODE_ENGINES = rootPkg.engines.node;

class PackageBuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PackageBuildError';
    this.code = 'PACKAGE_BUILD';
  }
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Workspace packages by name: { dir (relative), pkg }. */
function workspacePackages() {
  const byName = new Map();
  for (const group of ['libs', 'services']) {
    for (const dir of fs.readdirSync(path.join(ROOT, group))) {
      const file = path.join(ROOT, group, dir, 'package.json');
      if (!fs.existsSync(file)) continue;
      const pkg = readJson(file);
      byName.set(pkg.name, { dir: `${group}/${dir}`, pkg });
    }
  }
  return byName;
}

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const SPECIFIER = /(?:require\(|import\(|from\s+|import\s+)["']([^"'./][^"']*)["']/g;
const packageOf = (specifier) => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** Bare module specifiers used by compiled files (runtime .js, and .d.ts for types). */
function importsOf(files) {
  const runtime = new Set();
  const types = new Set();
  for (const file of files) {
    const isTypes = file.endsWith('.d.ts');
    if (!isTypes && !file.endsWith('.js')) continue;
    // Comments mention modules too ("one step from "build""): read code only.
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const match of text.matchAll(SPECIFIER)) {
      const spec = match[1];
      if (BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0])) continue;
      (isTypes ? types : runtime).add(packageOf(spec));
    }
  }
  return { runtime, types };
}

function thirdPartyVersion(name, usedBy) {
  const declared = rootPkg.dependencies?.[name];
  if (declared) return declared;
  if (rootPkg.devDependencies?.[name]) throw new PackageBuildError(`${usedBy} uses ${name}, a devDependency of the repository: make it a dependency or stop importing it`);
  const installed = path.join(ROOT, 'node_modules', name, 'package.json');
  if (fs.existsSync(installed)) {
    process.stderr.write(`warning: ${usedBy} uses ${name}, not declared in the root package.json; pinning the installed ${readJson(installed).version}\n`);
    return readJson(installed).version;
  }
  throw new PackageBuildError(`${usedBy} uses ${name}, which is not installed`);
}

/** Value (not type-only) export names of an entry, read from its declarations. */
function valueExports(entryDts) {
  const ts = require('typescript');
  const program = ts.createProgram([entryDts], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryDts);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new PackageBuildError(`no module symbol for ${entryDts}`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return (target.flags & ts.SymbolFlags.Value) !== 0 && !isTypeOnlyExport(ts, symbol);
    })
    .map((symbol) => symbol.getName())
    .filter((name) => name !== 'default')
    .sort();
}

function isTypeOnlyExport(ts, symbol) {
  return (symbol.declarations ?? []).some((d) => (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly)));
}

function esmWrapper(names) {
  return [
    '// ES module entry: the CommonJS build, named export by named export (one copy of every class).',
    "import cjs from './index.js';",
    ...names.map((name) => `export const ${name} = cjs.${name};`),
    'export default cjs;',
    '',
  ].join('\n');
}

function readmeFor(name, pkg, dir) {
  const own = path.join(ROOT, dir, 'README.md');
  if (fs.existsSync(own)) return fs.readFileSync(own, 'utf8');
  return `# ${name}\n\n${pkg.description}\n\nPart of [Weft](https://github.com/weft-dev/weft), a durable DAG workflow engine. ` +
    'You normally install `@weft/sdk` (build workflows, run workers, call the API) and `@weft/cli` (the `weft` command); ' +
    `this package is one of their parts and has no stable API of its own.\n\nNode.js ${NODE_ENGINES}.\n`;
}

function build({ skipTsc, allowTypeErrors = false }) {
  if (!skipTsc) {
    fs.rmSync(BUILD, { recursive: true, force: true });
    try {
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', process.stderr, 'inherit'] });
    } catch {
      // tsc emits despite type errors; --allow-type-errors is for callers with their own type-check gate (npm test).
      if (!allowTypeErrors) throw new PackageBuildError('tsc reported errors (above): the packages are not built from a tree that does not type-check');
      process.stderr.write('warning: tsc reported errors (above); building from its output anyway (--allow-type-errors)\n');
    }
  }
  const workspace = workspacePackages();
  const version = workspace.get('@weft/cli').pkg.version;
  fs.rmSync(OUT, { recursive: true, force: true });

  const queue = [...ROOTS];
  const done = new Map();
  while (queue.length > 0) {
    const name = queue.shift();
    if (done.has(name)) continue;
    const ws = workspace.get(name);
    if (!ws) throw new PackageBuildError(`${name} is not a workspace package`);
    const shortName = name.replace('@weft/', '');
    const target = path.join(OUT, shortName);
    const compiled = path.join(BUILD, ws.dir, 'src');
    if (!fs.existsSync(path.join(compiled, 'index.js'))) throw new PackageBuildError(`${name}: no compiled ${path.relative(ROOT, compiled)}/index.js`);
    fs.cpSync(compiled, path.join(target, 'dist'), { recursive: true, filter: (src) => !/\.js\.map$/.test(src) });
    // Files the code reads next to itself (the SDK's templates), and the workflow JSON Schema
    // in the CLI, where `weft init`'s YAML points editors (node_modules/@weft/cli/schema/).
    for (const asset of ['templates']) {
      const from = path.join(ROOT, ws.dir, asset);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(target, asset), { recursive: true });
    }
    if (name === '@weft/cli') fs.cpSync(path.join(ROOT, 'docs', 'schema'), path.join(target, 'schema'), { recursive: true });
    const files = walk(path.join(target, 'dist'));
    const { runtime, types } = importsOf(files);
    const dependencies = {};
    for (const dep of IMPLICIT[name] ?? []) runtime.add(dep);
    for (const dep of [...runtime, ...types].sort()) {
      if (dep === name) continue;
      if (dep.startsWith('@weft/')) {
        if (dep === '@weft/console') continue; // optional: the web console, looked up with require.resolve
        dependencies[dep] = version;
        queue.push(dep);
      } else if (runtime.has(dep) || fs.existsSync(path.join(ROOT, 'node_modules', dep, 'package.json'))) {
        dependencies[dep] = thirdPartyVersion(dep, name);
      }
    }
    const pkg = {
      name,
      version,
      description: ws.pkg.description,
      license: rootPkg.license,
      engines: { node: NODE_ENGINES },
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': {
          import: { types: './dist/index.d.mts', default: './dist/index.mjs' },
          require: { types: './dist/index.d.ts', default: './dist/index.js' },
        },
        './package.json': './package.json',
      },
      files: ['dist', 'README.md', ...(fs.existsSync(path.join(target, 'templates')) ? ['templates'] : [])],
      dependencies,
    };
    if (name === '@weft/cli') {
      pkg.bin = { weft: 'bin/weft.js' };
      pkg.files.push('bin', 'schema');
      fs.mkdirSync(path.join(target, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(target, 'bin', 'weft.js'), cliBin(), { mode: 0o755 });
    }
    const names = valueExports(path.join(target, 'dist', 'index.d.ts'));
    fs.writeFileSync(path.join(target, 'dist', 'index.mjs'), esmWrapper(names));
    fs.writeFileSync(path.join(target, 'dist', 'index.d.mts'), "export * from './index.js';\n");
    fs.writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    fs.writeFileSync(path.join(target, 'README.md'), readmeFor(name, ws.pkg, ws.dir));
    done.set(name, target);
  }
  return done;
}

/** The published `weft` executable: the compiled CLI, no TypeScript on the way in. */
function cliBin() {
  return `#!/usr/bin/env node
'use strict';
// TypeScript workflow and actions files (weft run flow.ts, --actions actions.ts, WEFT_ACTIONS)
// load through @swc-node/register; other commands never load swc.
const ts = /\\.[cm]?ts$/;
if (process.argv.slice(2).some((arg) => ts.test(arg)) || (process.env.WEFT_ACTIONS ?? '').split(',').some((file) => ts.test(file.trim()))) {
  require('@swc-node/register');
}
// \`weft ... | head\`: the reader went away; end quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
require('../dist/main.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    // Whatever failed may have left timers or sockets open: do not hang on them.
    process.exit(70);
  });
`;
}

function pack(packages, into) {
  fs.mkdirSync(into, { recursive: true });
  const tarballs = {};
  for (const [name, dir] of packages) {
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', into], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
    tarballs[name] = path.join(into, out);
  }
  return tarballs;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const packAt = args.indexOf('--pack');
  try {
    const packages = build({ skipTsc: args.includes('--skip-tsc'), allowTypeErrors: args.includes('--allow-type-errors') });
    if (packAt >= 0) process.stdout.write(`${JSON.stringify(pack(packages, path.resolve(args[packAt + 1] ?? 'dist/tarballs')), null, 2)}\n`);
    else process.stderr.write(`built ${[...packages.keys()].join(', ')} in ${path.relative(ROOT, OUT)}/\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof PackageBuildError ? error.message : (error.stack ?? error)}\n`);
    process.exit(1);
  }
}

module.exports = { build, pack, PackageBuildError };
