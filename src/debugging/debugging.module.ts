import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DebugController } from './debug.controller';
import { DebugService } from './debug.service';

/** Admin debug routes; with DEBUG_ROUTES_ENABLED=false they are not mounted at all (404). */
@Module({})
export class DebuggingModule {
  static register(config: AppConfig): DynamicModule {
    if (!config.debugRoutesEnabled) return { module: DebuggingModule };
    return { module: DebuggingModule, controllers: [DebugController], providers: [DebugService] };
  }
}
