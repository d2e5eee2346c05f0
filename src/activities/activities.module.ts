import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module';
import { ActivityWriter } from './activity-writer';
import { ActivityWriterMetrics } from './activity-writer.metrics';
import { ActivityController } from './activity.controller';
import { ActivityRepository } from './activity.repository';
import { ActivityService } from './activity.service';

@Module({
  imports: [ProjectsModule],
  controllers: [ActivityController],
  providers: [ActivityRepository, ActivityWriter, ActivityService, ActivityWriterMetrics],
})
export class ActivitiesModule {}
