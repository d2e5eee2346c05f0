import { InitialSchema1732200000000 } from './1732200000000-initial-schema';

/** Every migration, oldest first. Listed explicitly so the build and Jest load the same classes. */
export const MIGRATIONS = [InitialSchema1732200000000];
