import { InvalidArgumentError, type Command } from 'commander';
import { CertificateInputError, checkDnsName, checkIpAddress, checkNamespaceName, checkServiceName } from '../tls/names.js';
import { DEFAULT_CA_VALIDITY_DAYS, DEFAULT_SERVING_VALIDITY_DAYS, MAX_VALIDITY_DAYS } from '../tls/validity.js';
import { EXIT_USAGE } from './exit.js';

interface CertsOptions {
  service: string;
  namespace: string;
  dns?: string[];
  ip?: string[];
  out: string;
  validityDays: number;
  caValidityDays: number;
  force?: boolean;
}

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description(
      'Generate a CA and a serving certificate for the webhook Service. Writes ca.crt, ca.key, tls.crt and ' +
        'tls.key to --out and prints the base64 caBundle for the ValidatingWebhookConfiguration on stdout.',
    )
    .requiredOption('--service <name>', 'name of the Service in front of the webhook', checked(checkServiceName))
    .requiredOption('--namespace <ns>', 'namespace of that Service', checked(checkNamespaceName))
    .option('--dns <name>', 'extra DNS name for the certificate (repeatable)', collect(checkDnsName))
    .option('--ip <addr>', 'IP address for the certificate (repeatable)', collect(checkIpAddress))
    .requiredOption('--out <dir>', 'directory to write the files to (created if missing)', checked(checkDirectory))
    .option('--validity-days <n>', 'serving certificate validity in days', days, DEFAULT_SERVING_VALIDITY_DAYS)
    .option('--ca-validity-days <n>', 'CA validity in days', days, DEFAULT_CA_VALIDITY_DAYS)
    .option('--force', 'replace existing files in --out')
    .action(async (options: CertsOptions) => runCerts(options));
}

async function runCerts(options: CertsOptions): Promise<void> {
  if (options.validityDays > options.caValidityDays) {
    // Silently capping it at the CA's expiry would hide that the certificate ends sooner than asked.
    process.stderr.write(
      `practice-gate certs: --validity-days ${options.validityDays} is longer than --ca-validity-days ${options.caValidityDays}; ` +
        'a certificate cannot outlive the CA that signed it\n',
    );
    process.exitCode = EXIT_USAGE;
    return;
  }
  // node-forge loads only when certificates are made, not for every command's start-up.
  const { CertificateOutputError, writeWebhookCertificates } = await import('../tls/write.js');
  let written: ReturnType<typeof writeWebhookCertificates>;
  try {
    written = writeWebhookCertificates({
      service: options.service,
      namespace: options.namespace,
      dnsNames: options.dns ?? [],
      ipAddresses: options.ip ?? [],
      outDir: options.out,
      validityDays: options.validityDays,
      caValidityDays: options.caValidityDays,
      force: options.force === true,
    });
  } catch (err) {
    if (err instanceof CertificateInputError || err instanceof CertificateOutputError) {
      process.stderr.write(`practice-gate certs: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    throw err;
  }
  // stdout carries only the bundle, so `CA_BUNDLE=$(practice-gate certs ...)` just works.
  process.stdout.write(`${written.caBundle}\n`);
  const sans = [...written.dnsNames, ...written.ipAddresses].join(', ');
  process.stderr.write(
    [
      `Wrote ${written.files.caCert}, ${written.files.caKey}, ${written.files.cert} and ${written.files.key} (keys mode 0600).`,
      `The serving certificate covers ${sans} and expires ${written.notAfter.toISOString()}.`,
      'stdout is the caBundle for the ValidatingWebhookConfiguration. Put the pair in the Secret the webhook mounts:',
      `  kubectl -n ${options.namespace} create secret tls ${options.service}-tls --cert=${written.files.cert} --key=${written.files.key}`,
      `Keep ${written.files.caKey} out of the cluster: it is only needed to issue the next serving certificate.`,
      '',
    ].join('\n'),
  );
}

/** Turns a validation error into commander's, which reports the option and exits with a usage error. */
function checked(check: (value: string) => string): (value: string) => string {
  return (value) => {
    try {
      return check(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function collect(check: (value: string) => string): (value: string, previous?: string[]) => string[] {
  const one = checked(check);
  return (value, previous = []) => [...previous, one(value)];
}

function days(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_VALIDITY_DAYS)) {
    throw new InvalidArgumentError(`must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS}`);
  }
  return n;
}

function checkDirectory(value: string): string {
  if (value.trim() === '') throw new Error('the output directory must not be empty');
  return value;
}
