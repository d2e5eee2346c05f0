/**
 * The embedded PostgreSQL cannot start for a reason only the person starting the app can fix (a
 * folder the `postgres` system user cannot enter, credentials that do not open the cluster). The
 * message is one line saying what failed and the ways out, so `main.ts` prints it without a stack
 * trace and exits with code 2, as for bad configuration.
 */
export class EmbeddedPostgresSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresSetupError';
  }
}
