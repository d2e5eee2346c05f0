import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module';
import { ActivityWriter } from './activity-writer';
import { ActivityController } from './activity.controller';
import { ActivityRepository } from './activity.repository';
import { ActivityService } from './activity.service';

@Module({
  imports: [ProjectsModule],
  controllers: [ActivityController],
  providers: [ActivityRepository, ActivityWriter, ActivityService],
  // The writer, for the metrics module to subscribe to.
  exports: [ActivityWriter],
})
export class ActivitiesModule {}
