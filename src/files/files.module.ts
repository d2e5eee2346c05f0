import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module';
import { FileController } from './file.controller';
import { FileRepository } from './file.repository';
import { FileService } from './file.service';

@Module({
  imports: [ProjectsModule],
  controllers: [FileController],
  providers: [FileRepository, FileService],
})
export class FilesModule {}
