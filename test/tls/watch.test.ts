import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { generateCA, generateServingCert, type PemPair } from '../../src/tls/generate.js';
import { TlsError, type TlsFiles, type TlsMaterial } from '../../src/tls/material.js';
import { TlsFileWatcher } from '../../src/tls/watch.js';

const ca = generateCA();
const issue = () => generateServingCert(ca, { commonName: 'webhook', dnsNames: ['webhook.gate.svc'], ipAddresses: [] });
const first = issue();
const second = issue();
const third = issue();
const fingerprint = (pair: PemPair) => new X509Certificate(pair.cert).fingerprint256;

/** A poll so slow it never fires during a test: only directory events can drive the watcher. */
const WATCH_ONLY = { pollIntervalMs: 3_600_000 };

function writePair(dir: string, pair: PemPair): void {
  writeFileSync(join(dir, 'tls.crt'), pair.cert);
  writeFileSync(join(dir, 'tls.key'), pair.key);
}

function filesIn(dir: string): TlsFiles {
  return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** A started watcher, closed when the test ends. */
function watcherFor(t: Test, files: TlsFiles, options: ConstructorParameters<typeof TlsFileWatcher>[1]) {
  const watcher = new TlsFileWatcher(files, options);
  watcher.start();
  t.teardown(() => watcher.close());
  return watcher;
}

/**
 * The next event of the given kind; the other kind, or nothing within the time limit, fails the
 * wait. The limit only guards against a hang: the wait ends as soon as the event arrives.
 */
function next(watcher: TlsFileWatcher, event: 'reload'): Promise<TlsMaterial>;
function next(watcher: TlsFileWatcher, event: 'error'): Promise<TlsError>;
function next(watcher: TlsFileWatcher, event: 'reload' | 'error'): Promise<TlsMaterial | TlsError> {
  return new Promise((resolve, reject) => {
    const onReload = (m: TlsMaterial) => settle(() => (event === 'reload' ? resolve(m) : reject(unexpected(m))));
    const onError = (err: TlsError) => settle(() => (event === 'error' ? resolve(err) : reject(err)));
    const timer = setTimeout(() => settle(() => reject(new Error(`no '${event}' event within 10s`))), 10_000);
    function settle(finish: () => void) {
      clearTimeout(timer);
      watcher.off('reload', onReload);
      watcher.off('error', onError);
      finish();
    }
    watcher.on('reload', onReload);
    watcher.on('error', onError);
  });
}

function unexpected(m: TlsMaterial): Error {
  return new Error(`unexpected reload to ${m.fingerprint}`);
}

t.test('the current pair is loaded at construction, and bad files throw there', async (t) => {
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const watcher = new TlsFileWatcher(filesIn(dir));
  t.equal(watcher.current.fingerprint, fingerprint(first));
  watcher.close();

  const bad = t.testdir({ 'tls.crt': first.cert, 'tls.key': second.key });
  t.throws(() => new TlsFileWatcher(filesIn(bad)), TlsError);
  t.throws(() => new TlsFileWatcher(filesIn(dir), { pollIntervalMs: 0 }), RangeError);
});

t.test('rewriting the files with a new pair reloads it', async (t) => {
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const watcher = watcherFor(t, filesIn(dir), WATCH_ONLY);
  const reloaded = next(watcher, 'reload');
  writePair(dir, second);
  const m = await reloaded;
  t.equal(m.fingerprint, fingerprint(second));
  t.equal(m.key, second.key);
  t.equal(watcher.current, m, 'current is the new pair');
});

t.test('a bad pair is reported and the old one kept, until a good one lands', async (t) => {
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const watcher = watcherFor(t, filesIn(dir), WATCH_ONLY);

  const failed = next(watcher, 'error');
  writeFileSync(join(dir, 'tls.crt'), second.cert); // the key still belongs to the first pair
  const err = await failed;
  t.type(err, TlsError);
  t.match(err.message, /TLS key file .*tls\.key does not match TLS certificate file .*tls\.crt/);
  t.equal(watcher.current.fingerprint, fingerprint(first), 'still serving the old pair');

  const reloaded = next(watcher, 'reload');
  writeFileSync(join(dir, 'tls.key'), second.key);
  t.equal((await reloaded).fingerprint, fingerprint(second), 'the completed pair is picked up');
});

t.test('a deleted file is reported and the old pair kept', async (t) => {
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const watcher = watcherFor(t, filesIn(dir), WATCH_ONLY);
  const failed = next(watcher, 'error');
  rmSync(join(dir, 'tls.key'));
  t.match((await failed).message, /TLS key file .*tls\.key does not exist/);
  t.equal(watcher.current.fingerprint, fingerprint(first));
});

t.test('a Kubernetes Secret volume update (..data symlink swap) reloads', async (t) => {
  // The layout the kubelet's atomic writer keeps: files are links through ..data into a timestamped dir.
  const dir = t.testdir({
    '..2026_01_01_00_00_00.1': { 'tls.crt': first.cert, 'tls.key': first.key },
    '..data': t.fixture('symlink', '..2026_01_01_00_00_00.1'),
    'tls.crt': t.fixture('symlink', '..data/tls.crt'),
    'tls.key': t.fixture('symlink', '..data/tls.key'),
  });
  const watcher = watcherFor(t, filesIn(dir), WATCH_ONLY);
  t.equal(watcher.current.fingerprint, fingerprint(first));

  const reloaded = next(watcher, 'reload');
  // The kubelet's update: write a new dir, point a temp link at it, rename it over ..data, drop the old dir.
  const fresh = join(dir, '..2026_02_01_00_00_00.2');
  mkdirSync(fresh);
  writePair(fresh, third);
  symlinkSync('..2026_02_01_00_00_00.2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
  t.equal((await reloaded).fingerprint, fingerprint(third));
});

t.test('the poll catches changes no directory event reports', async (t) => {
  // The files are links through an unwatched directory, so only the poll can see the change; that
  // directory's link is swapped in one rename, so the poll never sees half a pair.
  const dir = t.testdir({
    old: { 'tls.crt': first.cert, 'tls.key': first.key },
    current: t.fixture('symlink', 'old'),
    watched: {
      'tls.crt': t.fixture('symlink', '../current/tls.crt'),
      'tls.key': t.fixture('symlink', '../current/tls.key'),
    },
  });
  const watcher = watcherFor(t, filesIn(join(dir, 'watched')), { pollIntervalMs: 50, debounceMs: 10 });
  const reloaded = next(watcher, 'reload');
  mkdirSync(join(dir, 'new'));
  writePair(join(dir, 'new'), second);
  symlinkSync('new', join(dir, 'current_tmp'));
  renameSync(join(dir, 'current_tmp'), join(dir, 'current'));
  t.equal((await reloaded).fingerprint, fingerprint(second));
});

t.test('a changed client CA reloads even though the serving certificate is the same', async (t) => {
  const otherCa = generateCA({ commonName: 'client CA 2' });
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key, 'ca.crt': ca.cert });
  const watcher = watcherFor(t, { ...filesIn(dir), clientCaFile: join(dir, 'ca.crt') }, WATCH_ONLY);
  const reloaded = next(watcher, 'reload');
  writeFileSync(join(dir, 'ca.crt'), otherCa.cert);
  const m = await reloaded;
  t.equal(m.fingerprint, fingerprint(first));
  t.equal(m.clientCa, otherCa.cert);
});

t.test('a poll faster than the debounce does not postpone the check forever', async (t) => {
  // 50 ms poll, 200 ms debounce: each tick used to restart the wait, so a renewed
  // certificate was never picked up.
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const watcher = watcherFor(t, filesIn(dir), { pollIntervalMs: 50, debounceMs: 200 });
  const reloaded = next(watcher, 'reload');
  writePair(dir, second);
  t.equal((await reloaded).fingerprint, fingerprint(second));
});
