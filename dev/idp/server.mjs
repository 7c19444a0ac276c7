#!/usr/bin/env node
// CLI entry of the dev/test OpenID provider. Contract relied on by the Python
// tests and the Makefile: stdout carries exactly one JSON line once the server
// listens — {"issuer", "port", "profile", "pid"} — and nothing else; all
// logging goes to stderr. SIGTERM/SIGINT stop it cleanly.
//
//   node dev/idp/server.mjs [--host 127.0.0.1] [--port 0] [--profile id_token|userinfo]
//     [--access-ttl 300] [--id-token-ttl 300] [--refresh-ttl 86400] [--par off|on|required]
//     [--client-id jupyterlab-oidc] [--other-client-id jupyterlab-oidc-other]
//     [--service-client-id jupyterlab-oidc-service] [--service-client-secret service-secret]
//     [--verbose] [--exit-with-parent]
// Each option can also come from IDP_<NAME> (e.g. IDP_PORT, IDP_ACCESS_TTL).
// --exit-with-parent stops the server when the process that started it goes
// away, so a crashed test run leaves no provider behind (off by default: a
// Makefile that starts it with `&` has a parent that exits at once).

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { generateSigningKeys } from './keys.mjs';

// oidc-provider prints notices with console.info, which would break the
// one-line stdout contract; send every console channel to stderr first.
for (const name of ['log', 'info', 'debug']) console[name] = console.error;

const OPTIONS = {
  host: { default: '127.0.0.1' },
  port: { default: '0', integer: true },
  profile: { default: 'id_token', oneOf: ['id_token', 'userinfo'] },
  'access-ttl': { default: '300', integer: true, positive: true },
  'id-token-ttl': { default: '300', integer: true, positive: true },
  'refresh-ttl': { default: '86400', integer: true, positive: true },
  par: { default: 'off', oneOf: ['off', 'on', 'required'] },
  'client-id': { default: 'jupyterlab-oidc' },
  'other-client-id': { default: 'jupyterlab-oidc-other' },
  'service-client-id': { default: 'jupyterlab-oidc-service' },
  'service-client-secret': { default: 'service-secret' },
};

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(2);
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: 'string' }])),
      verbose: { type: 'boolean', default: false },
      'exit-with-parent': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const envName = (name) => `IDP_${name.toUpperCase().replaceAll('-', '_')}`;
  const result = {
    verbose: values.verbose || process.env.IDP_VERBOSE === '1',
    exitWithParent: values['exit-with-parent'] || process.env.IDP_EXIT_WITH_PARENT === '1',
  };
  for (const [name, spec] of Object.entries(OPTIONS)) {
    let value = values[name] ?? process.env[envName(name)] ?? spec.default;
    if (spec.integer) {
      if (!/^\d+$/.test(value)) fail(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
      value = Number(value);
      if (spec.positive && value <= 0) fail(`--${name} must be greater than 0`);
    }
    if (spec.oneOf && !spec.oneOf.includes(value)) fail(`--${name} must be one of ${spec.oneOf.join(', ')}`);
    result[name] = value;
  }
  return result;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

async function main() {
  const options = readOptions();
  const signingKeys = generateSigningKeys(); // runs while the modules below load
  // Loaded after the console redirect so nothing the provider logs reaches stdout.
  const { createProvider } = await import('./provider.mjs');
  const { controlRoutes } = await import('./control.mjs');
  const { interactionRoutes } = await import('./interactions.mjs');
  const { devicePolling } = await import('./device.mjs');

  // The issuer contains the port, and port 0 is only known after listening.
  const server = createServer();
  const port = await listen(server, options.port, options.host);
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const issuer = `http://${hostInUrl}:${port}`;

  const { provider, store, settings } = createProvider({
    issuer,
    profile: options.profile,
    accessTtl: options['access-ttl'],
    idTokenTtl: options['id-token-ttl'],
    refreshTtl: options['refresh-ttl'],
    par: options.par,
    clientId: options['client-id'],
    otherClientId: options['other-client-id'],
    serviceClientId: options['service-client-id'],
    serviceClientSecret: options['service-client-secret'],
    signingKeys: await signingKeys,
  });
  const control = controlRoutes(provider, { store, settings });
  if (options.verbose) {
    provider.use(async (ctx, next) => {
      const started = Date.now();
      await next();
      console.error(`idp: ${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
    });
  }
  provider.use(control.routes);
  provider.use(control.observe);
  provider.use(devicePolling(provider, settings, control.stats));
  provider.use(interactionRoutes(provider));
  server.on('request', provider.callback());

  process.stdout.write(`${JSON.stringify({ issuer, port, profile: options.profile, pid: process.pid })}\n`);

  const stop = (signal) => {
    console.error(`idp: ${signal}, stopping`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    // Don't hang on a client that keeps a request open.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (options.exitWithParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('parent exited');
    }, 1000).unref();
  }
}

main().catch((err) => {
  console.error('idp: failed to start:', err);
  process.exit(1);
});
