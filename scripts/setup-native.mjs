#!/usr/bin/env node
/**
 * `npm run setup:native`: builds the optional native backend, `@tensorflow/tfjs-node`, from what
 * a machine that cannot reach the package's own download hosts (storage.googleapis.com) can still
 * get: the `tensorflow-cpu` wheel from PyPI or a mirror of it (`pip download`).
 *
 * Why it works: the wheel ships the TensorFlow C library — `libtensorflow_cc.so.2` exports every
 * `TF_*` / `TFE_*` C-API function the binding calls, beside `libtensorflow_framework.so.2` — and
 * the C-API headers. tfjs-node's installer skips its libtensorflow download when
 * `deps/lib/libtensorflow.so.<version>` exists, and builds the addon from source (node-gyp) when
 * `scripts/custom-binary.json` names a `"tf-lib"`; `binding.gyp` compiles against `deps/include`
 * and links `-ltensorflow -ltensorflow_framework` from `deps/lib` with an rpath to that folder.
 *
 * Steps: check every prerequisite first (nothing is changed until all are there); download the
 * wheel; put the optional package back if `npm ci` removed it (npm drops an optional package
 * whose install script failed); unpack the two libraries and the headers the binding
 * includes into the package's `deps/`; `npm rebuild @tensorflow/tfjs-node`; load it in a child
 * process with every symbol bound (`LD_BIND_NOW=1`) and check a matrix product.
 *
 * Idempotent: when tfjs-node already loads, it says so and stops (`--force` rebuilds). Run it
 * again after every `npm ci`, which reinstalls node_modules. When something is missing it prints
 * one message naming it and what to do and exits 1; prerequisites are checked before anything is
 * changed, and a failed build is undone, so vaekit keeps running on wasm.
 *
 * Usage: node scripts/setup-native.mjs [--wheel <tensorflow-cpu-….whl>] [--force]
 * Environment: PYTHON (default python3), CXX (default c++), npm_config_nodedir (Node headers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'node_modules', '@tensorflow', 'tfjs-node');
const PACKAGE = '@tensorflow/tfjs-node';
const WHEEL_SPEC = 'tensorflow-cpu';

/** A prerequisite or step that failed: `what` is missing, `todo` says how to get it. */
class SetupError extends Error {
  constructor(what, todo) {
    super(what);
    this.todo = todo;
  }
}

function log(line) {
  process.stdout.write(`setup:native: ${line}\n`);
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
}

/** True when `cmd args` starts and exits 0. */
function works(cmd, args) {
  const r = run(cmd, args);
  return !r.error && r.status === 0;
}

function parseArgs(argv) {
  const out = { wheel: undefined, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') out.force = true;
    else if (a === '--wheel' && i + 1 < argv.length) out.wheel = resolve(argv[++i]);
    else if (a.startsWith('--wheel=')) out.wheel = resolve(a.slice('--wheel='.length));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/setup-native.mjs [--wheel <tensorflow-cpu-….whl>] [--force]\n');
      process.exit(0);
    } else throw new SetupError(`unknown argument ${JSON.stringify(a)}`, 'usage: node scripts/setup-native.mjs [--wheel <file.whl>] [--force]');
  }
  return out;
}

/** The tfjs-node version this project pins (its optionalDependencies entry). */
function pinnedVersion() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const v = pkg.optionalDependencies?.[PACKAGE] ?? pkg.dependencies?.[PACKAGE];
  if (!v) throw new SetupError(`package.json does not list ${PACKAGE}`, `add "${PACKAGE}": "4.22.0" to optionalDependencies`);
  return v;
}

/** Loads tfjs-node in a child with every symbol bound now; its TensorFlow version, or the reason it does not load. */
function probeNative() {
  const code = `
    const tf = require(${JSON.stringify(PACKAGE)});
    const p = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 4]])).arraySync();
    if (tf.getBackend() !== 'tensorflow' || JSON.stringify(p) !== '[[7,10],[15,22]]') throw new Error('backend ' + tf.getBackend() + ' gave ' + JSON.stringify(p));
    process.stdout.write(JSON.stringify({ tensorflow: tf.backend().binding.TF_Version }));`;
  const r = run(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, LD_BIND_NOW: '1', TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (r.status === 0) {
    try {
      return { ok: true, version: JSON.parse(r.stdout).tensorflow };
    } catch {
      /* fall through */
    }
  }
  const reason = (r.stderr || r.stdout || String(r.error ?? '')).split('\n').find((l) => /Error|error:/.test(l)) ?? 'it does not load';
  return { ok: false, reason: reason.trim() };
}

/** Folder with include/node/node_api.h for node-gyp (`npm_config_nodedir`), or null when node-gyp's own cache has the headers. */
function findNodeHeaders() {
  const has = (dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'));
  const configured = process.env.npm_config_nodedir;
  if (configured) {
    if (has(configured)) return { nodedir: configured };
    throw new SetupError(
      `Node headers: npm_config_nodedir=${configured} has no include/node/node_api.h`,
      'point npm_config_nodedir at a folder with include/node/ (the Node headers), or unset it',
    );
  }
  const prefix = resolve(dirname(process.execPath), '..'); // /usr for /usr/bin/node; the tarball layout too
  if (has(prefix)) return { nodedir: prefix };
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'node-gyp', process.versions.node);
  if (has(cache)) return { nodedir: undefined };
  throw new SetupError(
    `Node headers for ${process.version} (node_api.h) not found in ${join(prefix, 'include', 'node')} or ${join(cache, 'include', 'node')}`,
    'install them (Debian/Ubuntu: apt-get install -y libnode-dev, or the nodejs package of your Node distribution), or set npm_config_nodedir to a folder with include/node/',
  );
}

/** Checks everything the build needs before anything is changed. */
function checkPrerequisites({ wheel }) {
  if (!existsSync(join(root, 'node_modules', '@tensorflow', 'tfjs'))) {
    throw new SetupError('node_modules is not installed', 'run `npm ci` first, then `npm run setup:native`');
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(
      `the wheel route is for Linux x86-64, not ${process.platform}-${process.arch}`,
      `use tfjs-node's own installer instead: npm rebuild ${PACKAGE} (it downloads libtensorflow and a prebuilt addon)`,
    );
  }
  const python = process.env.PYTHON || 'python3';
  if (!works(python, ['--version'])) {
    throw new SetupError(`no Python 3 (tried \`${python}\`)`, 'install it (apt-get install -y python3 python3-pip) or set PYTHON to its path');
  }
  if (wheel === undefined && !works(python, ['-m', 'pip', '--version'])) {
    throw new SetupError(
      `no pip (\`${python} -m pip\` does not run)`,
      'install it (apt-get install -y python3-pip), or download the tensorflow-cpu wheel elsewhere and pass --wheel <file>',
    );
  }
  if (wheel !== undefined && !(existsSync(wheel) && statSync(wheel).isFile())) {
    throw new SetupError(`no wheel at ${wheel}`, 'pass --wheel the path of a downloaded tensorflow-cpu-….whl');
  }
  const cxx = process.env.CXX || 'c++';
  if (!works(cxx, ['--version'])) {
    throw new SetupError(`no C++ compiler (tried \`${cxx}\`)`, 'install one (apt-get install -y g++) or set CXX to its path');
  }
  if (!works('make', ['--version'])) throw new SetupError('no `make`', 'install it (apt-get install -y make)');
  const headers = findNodeHeaders();
  return { python, ...headers };
}

function npm(args, options) {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith('.js') ? run(process.execPath, [cli, ...args], options) : run('npm', args, options);
}

/** Puts tfjs-node back into node_modules (without its failing install script) if npm removed it. */
function ensurePackage(version) {
  const manifest = join(pkgDir, 'package.json');
  if (!existsSync(manifest)) {
    log(`${PACKAGE} is not in node_modules (npm drops an optional package whose install failed): installing it without its install script`);
    const r = npm(['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(manifest)) {
      throw new SetupError(`npm could not install ${PACKAGE}@${version}`, 'check that the npm registry is reachable (npm ping), then run this again');
    }
  }
  const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
  if (installed !== version) {
    throw new SetupError(`node_modules has ${PACKAGE}@${installed}, package.json pins ${version}`, 'run `npm ci`, then this again');
  }
}

function downloadWheel(python) {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-tf-wheel-'));
  log(`downloading the ${WHEEL_SPEC} wheel with pip (≈ 270 MB; pip retries an unreachable index for a while first)`);
  const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', dir, WHEEL_SPEC], { stdio: 'inherit' });
  const whl = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.whl')) : undefined;
  if (r.status !== 0 || !whl) {
    rmSync(dir, { recursive: true, force: true });
    throw new SetupError(
      `pip could not download the ${WHEEL_SPEC} wheel`,
      'point pip at a reachable index or mirror (PIP_INDEX_URL), or download a tensorflow-cpu wheel for Linux x86-64 elsewhere and pass --wheel <file>',
    );
  }
  return { wheel: join(dir, whl), tempDir: dir };
}

/** The TensorFlow headers the binding's sources include (`#include "tensorflow/…"`). */
function bindingHeaders() {
  const dir = join(pkgDir, 'binding');
  const found = new Set();
  for (const f of readdirSync(dir)) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/#\s*include\s*"(tensorflow\/[^"]+)"/g)) found.add(m[1]);
  }
  return [...found];
}

// Unpacks the two libraries and the include closure of `roots` from the wheel (a zip) into dest/lib and dest/include.
const UNPACK_PY = `
import json, os, re, shutil, sys, zipfile
wheel, dest, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
libs = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2']
inc = 'tensorflow/include/'
missing = [n for n in libs if n not in names] + [inc + h for h in roots if inc + h not in names]
if missing:
    print(json.dumps({'missing': missing}))
    sys.exit(3)
seen, todo = set(), list(roots)
while todo:
    h = todo.pop()
    if h in seen or inc + h not in names:
        continue
    seen.add(h)
    todo += re.findall(r'#\\s*include\\s*"([^"]+)"', z.read(inc + h).decode('utf-8', 'replace'))
def put(member, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with z.open(member) as s, open(path, 'wb') as d:
        shutil.copyfileobj(s, d, 1 << 20)
for n in libs:
    put(n, os.path.join(dest, 'lib', os.path.basename(n)))
for h in seen:
    put(inc + h, os.path.join(dest, 'include', h))
version = next((m.group(1) for n in names for m in [re.match(r'tensorflow(?:_cpu)?-([^/]+)\\.dist-info/', n)] if m), '?')
print(json.dumps({'version': version, 'headers': len(seen)}))
`;

function folderBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Unpacks into the package's deps/ and lays out the names binding.gyp links against and the installer looks for. */
function unpack(python, wheel) {
  const staging = join(pkgDir, 'deps.partial');
  rmSync(staging, { recursive: true, force: true });
  log(`unpacking the TensorFlow C library from ${basename(wheel)}`);
  const r = run(python, ['-c', UNPACK_PY, wheel, staging, ...bindingHeaders()]);
  let info = {};
  try {
    info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  } catch {
    /* reported below */
  }
  if (r.status !== 0 || !info.version) {
    rmSync(staging, { recursive: true, force: true });
    if (info.missing) {
      throw new SetupError(`${basename(wheel)} lacks ${info.missing.join(', ')}`, 'use a tensorflow-cpu wheel for Linux x86-64 (2.x with the C library, e.g. 2.21.0)');
    }
    throw new SetupError(`could not unpack ${basename(wheel)}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`, 'check that the file is a complete wheel and that the disk has ≈ 1 GB free');
  }
  const require = createRequire(join(pkgDir, 'package.json'));
  const constants = require('./scripts/deps-constants.js'); // the installer's own names
  const lib = join(staging, 'lib');
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  symlinkSync('libtensorflow_cc.so.2', join(lib, basename(constants.depsLibTensorFlowPath)));
  const deps = join(pkgDir, 'deps');
  rmSync(deps, { recursive: true, force: true });
  renameSync(staging, deps);
  return { version: info.version, headers: info.headers, bytes: folderBytes(deps) };
}

/** `npm rebuild` runs the installer, which now builds the addon from source against deps/. */
function buildAddon(wheelName, nodedir) {
  writeFileSync(join(pkgDir, 'scripts', 'custom-binary.json'), `${JSON.stringify({ 'tf-lib': `${wheelName} (unpacked by vaekit scripts/setup-native.mjs)` })}\n`);
  const logFile = join(tmpdir(), 'vaekit-setup-native-build.log');
  log(`building tfjs_binding.node with node-gyp (log: ${logFile})`);
  const env = { ...process.env };
  if (nodedir) env.npm_config_nodedir = nodedir;
  const r = npm(['rebuild', PACKAGE, '--foreground-scripts'], { cwd: root, env });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const stream = createWriteStream(logFile);
  stream.end(out);
  if (r.status !== 0) {
    const firstError = out.split('\n').find((l) => /error:|Error:/.test(l));
    throw new SetupError(`node-gyp could not build the addon${firstError ? `: ${firstError.trim()}` : ''}`, `see ${logFile}`);
  }
}

/** Undoes a partial build so that tfjs-node is back where `npm ci` or the previous state left it. */
function restore(manifestText) {
  for (const p of ['deps', 'deps.partial', 'lib', 'build', join('scripts', 'custom-binary.json')]) rmSync(join(pkgDir, p), { recursive: true, force: true });
  writeFileSync(join(pkgDir, 'package.json'), manifestText);
}

function seconds(t0) {
  return ((Date.now() - t0) / 1000).toFixed(0);
}

function main() {
  const t0 = Date.now();
  const args = parseArgs(process.argv.slice(2));
  const version = pinnedVersion();
  if (!args.force && existsSync(join(pkgDir, 'package.json'))) {
    const probe = probeNative();
    if (probe.ok) {
      log(`${PACKAGE} already loads (TensorFlow ${probe.version}); nothing to do (--force rebuilds)`);
      return;
    }
  }
  const pre = checkPrerequisites(args);
  let wheel = args.wheel;
  let tempDir;
  const tDownload = Date.now();
  if (wheel === undefined) ({ wheel, tempDir } = downloadWheel(pre.python));
  const wheelBytes = statSync(wheel).size;
  const downloadSeconds = seconds(tDownload);
  try {
    ensurePackage(version);
  } catch (e) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw e;
  }
  // From here on the package changes; a failure removes what the build added (no addon: vaekit runs on wasm).
  const manifestText = readFileSync(join(pkgDir, 'package.json'), 'utf8');
  try {
    const tUnpack = Date.now();
    const unpacked = unpack(pre.python, wheel);
    const unpackSeconds = seconds(tUnpack);
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
    const tBuild = Date.now();
    buildAddon(basename(wheel), pre.nodedir);
    const buildSeconds = seconds(tBuild);
    const probe = probeNative();
    if (!probe.ok) throw new SetupError(`the built addon does not load: ${probe.reason}`, 'report it with the log above; vaekit keeps running on wasm');
    const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
    log(
      `done in ${seconds(t0)} s: TensorFlow ${probe.version} C library from ${basename(wheel)} (${mb(wheelBytes)}${args.wheel ? ', given' : `, downloaded in ${downloadSeconds} s`}), ` +
        `${mb(unpacked.bytes)} in ${relative(root, join(pkgDir, 'deps'))} (unpacked in ${unpackSeconds} s), addon built in ${buildSeconds} s`,
    );
    log('the tensorflow backend is now the first choice of selectBackend("auto"); VAEKIT_BACKEND=tensorflow forces it');
  } catch (e) {
    restore(manifestText);
    throw e;
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  if (!(e instanceof SetupError)) throw e;
  process.stderr.write(`setup:native: cannot build the native backend: ${e.message}. To fix: ${e.todo}. vaekit keeps running on wasm.\n`);
  process.exit(1);
}
