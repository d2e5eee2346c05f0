import { Global, Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { CursorCodec } from './cursor';
import { ShutdownState } from './shutdown-state';

@Global()
@Module({
  // The request pipeline finds every route's controller through Nest's discovery API.
  imports: [DiscoveryModule],
  providers: [
    ShutdownState,
    {
      provide: CursorCodec,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (config.cursorSecretGenerated && config.nodeEnv === 'production') {
          new Logger('Pagination').warn(
            'CURSOR_SECRET is unset: cursors are signed with a per-process key and break across instances and restarts',
          );
        }
        return new CursorCodec(config.cursorSecret);
      },
    },
  ],
  exports: [ShutdownState, CursorCodec],
})
export class HttpModule {}
