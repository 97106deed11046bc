#!/usr/bin/env node
// The release bundle: what install.sh puts under /opt/warden, in one tarball that installs offline
// (a Pi in the field may have no registry access, and the real-systemd test container has none).
//
//   npm run bundle                      build, then write release/warden-<version>.tar.gz and .sha256
//   node scripts/bundle.mjs --out DIR   the same, into DIR (dist/ must be built)
//   node scripts/bundle.mjs --stage DIR the payload as a directory (install.sh, from a checkout)
//
// The payload is the compiled dist/, the production dependencies only (from package-lock.json:
// every entry not marked dev; no TypeScript, tsx or esbuild on the Pi), the systemd units, the
// config example, the fake worker, install.sh and README.md. Every production dependency must be
// plain JavaScript: one bundle serves arm64, armhf and x86_64, so a package with a native build or
// a platform restriction is refused here rather than failing on someone's Pi.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

// Install scripts read and judged one by one: they build nothing, so one bundle still serves every
// architecture. protobufjs (through etcd3, [fleet] only): its postinstall only warns when a
// dependent's version range differs from its version scheme.
const NEUTRAL_INSTALL_SCRIPTS = new Set(['node_modules/protobufjs']);

const root = resolve(new URL('..', import.meta.url).pathname);
const PAYLOAD = [
  'dist',
  'systemd',
  'examples',
  'scripts/fake-worker',
  'install.sh',
  'README.md',
  'package.json',
  'package-lock.json',
  'LICENSE',
];

function die(msg) {
  console.error(`bundle: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { out: join(root, 'release'), stage: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' || a === '--stage') {
      const v = argv[++i];
      if (!v) die(`${a} needs a directory`);
      opts[a.slice(2)] = resolve(v);
    } else die(`unknown argument ${a} (use --out DIR or --stage DIR)`);
  }
  return opts;
}

/** The production closure from package-lock.json: [lock key, e.g. node_modules/a/node_modules/b]. */
function productionPackages(lock) {
  const pkgs = lock.packages ?? die('package-lock.json has no "packages" map (lockfileVersion 2 or 3 needed)');
  return Object.entries(pkgs).filter(([key, meta]) => key.startsWith('node_modules/') && !meta.dev && !meta.link);
}

function hasNativeCode(dir) {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === 'binding.gyp' || e.name.endsWith('.node')) return p;
    }
  }
  return null;
}

function dirBytes(dir) {
  let n = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else n += statSync(p).size;
    }
  }
  return n;
}

function stage(dest) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (!existsSync(join(root, 'dist/cli/main.js'))) die('dist/ is not built: run `npm run build` first');
  if (!existsSync(join(root, 'node_modules'))) die('node_modules/ is missing: run `npm ci` first (it needs the registry once)');
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (!lock.packages?.[`node_modules/${dep}`]) die(`package-lock.json does not list ${dep}: run \`npm install\` to update it`);
  }
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const p of PAYLOAD) {
    if (!existsSync(join(root, p))) {
      if (p === 'LICENSE') continue;
      die(`${p} is missing from the checkout`);
    }
    cpSync(join(root, p), join(dest, p), { recursive: true });
  }
  const prod = productionPackages(lock);
  for (const [key, meta] of prod) {
    // type declarations are never loaded at run time; protobufjs (etcd3's) lists @types/node as a dependency
    if (key.startsWith('node_modules/@types/')) continue;
    const src = join(root, key);
    if (!existsSync(src)) {
      if (meta.optional) continue;
      die(`${key} is in package-lock.json but not installed: run \`npm ci\``);
    }
    if (meta.os || meta.cpu || (meta.hasInstallScript && !NEUTRAL_INSTALL_SCRIPTS.has(key)))
      die(`${key} is platform-specific (os/cpu/install script): one bundle could not serve arm64, armhf and x86_64`);
    const native = hasNativeCode(src);
    if (native) die(`${relative(root, native)} is native code: one bundle could not serve arm64, armhf and x86_64`);
    // nested node_modules are lock entries of their own, copied (or left out, if dev) separately
    cpSync(src, join(dest, key), {
      recursive: true,
      filter: (from) => from === src || !relative(src, from).split('/').includes('node_modules'),
    });
  }
  return { version: pkg.version, packages: prod.length, bytes: dirBytes(dest) };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.stage) {
  const s = stage(opts.stage);
  console.log(
    `staged warden ${s.version}: dist + ${s.packages} production packages, ${(s.bytes / 1024 / 1024).toFixed(1)} MB in ${opts.stage}`,
  );
} else {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const name = `warden-${version}`;
  const work = join(opts.out, `.${name}.staging`);
  const s = stage(join(work, name));
  mkdirSync(opts.out, { recursive: true });
  const tarball = join(opts.out, `${name}.tar.gz`);
  const tar = spawnSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', work, name], {
    stdio: 'inherit',
  });
  rmSync(work, { recursive: true, force: true });
  if (tar.status !== 0) die(`tar failed (exit ${tar.status})`);
  const sum = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sum}  ${basename(tarball)}\n`);
  console.log(
    `${relative(process.cwd(), tarball) || tarball}: warden ${s.version}, dist + ${s.packages} production packages, ${(statSync(tarball).size / 1024 / 1024).toFixed(1)} MB (sha256 ${sum.slice(0, 12)}); install: sudo ./install.sh --bundle ${basename(tarball)}`,
  );
}
