import { writeSync } from 'node:fs';

/**
 * Preloaded into a server process (NODE_OPTIONS=--require) by the tracing test: as the process
 * exits, one line names every OpenTelemetry package it had loaded, so the test can tell that an
 * untraced process never loaded the SDK.
 */
const PACKAGE = /[\\/]node_modules[\\/](@opentelemetry[\\/][^\\/]+|@fastify[\\/]otel)[\\/]/g;

process.on('exit', () => {
  const packages = new Set<string>();
  for (const path of Object.keys(require.cache)) {
    const last = [...path.matchAll(PACKAGE)].pop();
    if (last) packages.add(last[1].replace(/\\/g, '/'));
  }
  // Synchronous: the process is exiting, an asynchronous write could be lost.
  writeSync(1, `telemetry packages loaded: ${JSON.stringify([...packages].sort())}\n`);
});
