import { ActivityEntity } from './activities/activity.entity';
import { ApiTokenEntity } from './auth/api-token.entity';
import { UserEntity } from './auth/user.entity';
import { FileEntity } from './files/file.entity';
import { ProjectEntity } from './projects/project.entity';

/**
 * Every table's entity, given to the DataSource itself rather than through forFeature. It lives at
 * the top, beside app.module, because it names every feature and database/ may import none: the app,
 * the migration CLI, migration:generate and the drift test then build the same metadata, with no
 * file globbing at start and no Repository<T> providers that nothing injects (the repositories
 * query through the DataSource).
 */
export const ENTITIES = [UserEntity, ApiTokenEntity, ProjectEntity, FileEntity, ActivityEntity];
