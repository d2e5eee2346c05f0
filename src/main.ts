import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env-schema';
import { createRootLogger, PinoNestLogger } from './http/logger';
import { runPrimary } from './primary';
import { serve } from './serve';

/** Config, then one serving process (WORKERS=1, or a cluster worker) or the cluster's primary. */
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
  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config, root);
  else await serve(config, root);
}

void main();
