import { FOREIGN_KEY_VIOLATION_CODE, sqlState, UNIQUE_VIOLATION_CODE } from './database.errors';

/**
 * What a write answers when the database refuses it for a reason the feature expects and can
 * name better than the global filter's generic 409 (classifyDbError): "this email is taken",
 * "the project is gone".
 */
export interface ConstraintAnswers {
  /** A unique constraint was violated: the value is taken. */
  readonly unique?: () => Error;
  /** A foreign key was violated: what the row refers to no longer exists. */
  readonly foreignKey?: () => Error;
}

export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === UNIQUE_VIOLATION_CODE;
}

/**
 * Runs a write and turns the constraint violations the feature named into its answers. Any other
 * error passes through unchanged, to the global filter.
 */
export async function withConstraints<T>(write: Promise<T>, answers: ConstraintAnswers): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const code = sqlState(err);
    if (code === UNIQUE_VIOLATION_CODE && answers.unique) throw answers.unique();
    if (code === FOREIGN_KEY_VIOLATION_CODE && answers.foreignKey) throw answers.foreignKey();
    throw err;
  }
}
