/** The `files.path` column is varchar(1024): PostgreSQL counts characters (code points), not bytes. */
export const FILE_PATH_MAX_LENGTH = 1024;

// C0 controls and DEL: invisible in listings and terminals, and PostgreSQL text cannot hold NUL at all.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** For the other short texts of a file (prefix, language), which have no further rules. */
export const WITHOUT_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;
const DRIVE_LETTER = /^[A-Za-z]:/;
// Clients on Windows send backslashes; a '..' must not slip through as 'a\..\b'.
const SEPARATORS = /[/\\]/;
const NON_ASCII = /[^\u0000-\u007f]/;
const ONLY_DOTS_AND_SPACES = /^[. ]+$/;

/**
 * Why `path` is not an acceptable project file path, or undefined when it is. Paths are stored
 * and compared exactly as given, so only canonical relative paths are accepted: otherwise
 * 'a/./b' and 'a/b' would be two files, and '../x' could escape the project when exported.
 * The rules apply to the path as given and to its NFKC form, since tools that normalise Unicode
 * read '．．' (fullwidth) as '..'. Trailing dots and spaces and ':' are refused too: Windows drops
 * the former ('a.' and 'a' are one file there) and reads the latter as a drive or a data stream.
 */
export function filePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (isTooLong(path)) return `must be at most ${FILE_PATH_MAX_LENGTH} characters`;
  if (CONTROL_CHARS.test(path)) return 'must not contain control characters (U+0000-U+001F, U+007F)';
  const forms = NON_ASCII.test(path) ? [path.normalize('NFKC'), path] : [path];
  for (const form of forms) {
    const problem = shapeProblem(form);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function shapeProblem(path: string): string | undefined {
  if (path.startsWith('/') || path.startsWith('\\')) return 'must be relative: no leading / or \\';
  if (DRIVE_LETTER.test(path)) return 'must be relative: no drive letter like C:';
  if (path.includes(':')) return "must not contain ':' (a drive or an alternate data stream on Windows)";
  const segments = path.split(SEPARATORS);
  if (segments.includes('')) return 'must not contain empty segments (a//b, or a trailing /)';
  if (segments.some((s) => s === '..' || s === '.')) return "must not contain '.' or '..' segments";
  if (segments.some((s) => ONLY_DOTS_AND_SPACES.test(s))) return 'must not contain segments of only dots and spaces';
  if (segments.some((s) => s.endsWith('.') || s.endsWith(' '))) return "must not contain segments ending in '.' or a space";
  return undefined;
}

function isTooLong(path: string): boolean {
  if (path.length <= FILE_PATH_MAX_LENGTH) return false;
  // A body may carry megabytes here: past two UTF-16 units per code point the answer is known.
  if (path.length > 2 * FILE_PATH_MAX_LENGTH) return true;
  return [...path].length > FILE_PATH_MAX_LENGTH;
}
