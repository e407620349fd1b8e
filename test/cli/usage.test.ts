// What a user sees after a typo: the error and where the help is, not ninety lines of help
// that push the error off screen; and `--version`, which every CLI answers.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

t.test('--version prints the package version and exits 0', async (t) => {
  for (const flag of ['--version', '-V']) {
    const run = await runCli([flag]);
    t.equal(run.code, 0, flag);
    t.equal(run.stdout, `${version}\n`, flag);
  }
});

t.test('a usage error prints the error and a one-line hint to --help, not the help', async (t) => {
  const cases: Array<[string[], RegExp, string]> = [
    [['audit', '--bogus'], /^error: unknown option '--bogus'$/m, "(run 'practice-gate audit --help' for usage)"],
    [['audit'], /^error: missing required argument 'paths'/m, "(run 'practice-gate audit --help' for usage)"],
    [['serve', '--port', 'x'], /argument 'x' is invalid\. must be a port number/, "(run 'practice-gate serve --help' for usage)"],
    [['serve'], /serve needs --tls-cert and --tls-key/, "(run 'practice-gate serve --help' for usage)"],
    [['certs', '--service', 'gate'], /required option '--namespace <ns>' not specified/, "(run 'practice-gate certs --help' for usage)"],
    [['serv'], /unknown command 'serv'\n\(Did you mean serve\?\)/, "(run 'practice-gate --help' for usage)"],
  ];
  for (const [args, error, hint] of cases) {
    const run = await runCli(args);
    const name = args.join(' ');
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stderr, error, `${name}: the error`);
    t.equal(run.stderr.trimEnd().split('\n').at(-1), hint, `${name}: ends with the hint`);
    t.notMatch(run.stderr, /Usage:|Options:/, `${name}: no help text`);
    t.ok(run.stderr.split('\n').length <= 4, `${name}: a few lines, not the help`);
    t.equal(run.stdout, '', `${name}: nothing on stdout`);
  }
});
