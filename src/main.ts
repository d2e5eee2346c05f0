import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env-schema';
import { createRootLogger, PinoNestLogger } from './http/logger';
import { startTelemetry } from './telemetry/telemetry';

/**
 * Config, then one serving process (WORKERS=1, or a cluster worker) or the cluster's primary.
 * The server modules are loaded only after OpenTelemetry has started: its instrumentations patch
 * pg, redis and fastify as they are required, so they must be loaded after it.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const root = createRootLogger(config);
  Logger.overrideLogger(new PinoNestLogger(root));
  if (Number(process.versions.node.split('.')[0]) < 22) {
    root.warn({ context: 'Main' }, `Node.js ${process.version} is past its end of life (2026-04-30): run Node.js 24 LTS`);
  }
  if (config.workers > 1 && cluster.isPrimary) {
    // The primary serves no request: the workers each start their own SDK.
    const { runPrimary } = require('./primary') as typeof import('./primary');
    await runPrimary(config, root);
  } else {
    const telemetry = startTelemetry(config.telemetry, root);
    const { serve } = require('./serve') as typeof import('./serve');
    await serve(config, root, telemetry);
  }
}

void main();
