import { FILE_PATH_MAX_LENGTH, filePathProblem } from './file-path';

// Labels keep the long inputs out of the test names.
const MAX_ASCII = 'a'.repeat(FILE_PATH_MAX_LENGTH);
const MAX_ASTRAL = '📄'.repeat(FILE_PATH_MAX_LENGTH);

describe('filePathProblem', () => {
  it.each([
    ['a plain name', 'main.ts'],
    ['nested', 'src/app/main.ts'],
    ['backslash separated', 'src\\win\\main.ts'],
    ['dot files', 'src/.env.example'],
    ['dots inside a segment', '..hidden/x..y'],
    ['fullwidth letters', 'ｓｒｃ/ｍａｉｎ.ts'],
    ['spaces and non-ASCII', 'dir with spaces/ünïcødé 📄.md'],
    ['LIKE wildcards', 'weird%_chars/50%_off.txt'],
    ['1024 ASCII characters', MAX_ASCII],
    // 2048 UTF-16 units but 1024 code points: PostgreSQL's varchar(1024) takes them.
    ['1024 astral characters', MAX_ASTRAL],
  ])('accepts %s', (_label, path) => {
    expect(filePathProblem(path)).toBeUndefined();
  });

  const RELATIVE = 'must be relative: no leading / or \\';
  const DRIVE = 'must be relative: no drive letter like C:';
  const DOTS = "must not contain '.' or '..' segments";
  const EMPTY_SEGMENT = 'must not contain empty segments (a//b, or a trailing /)';
  const CONTROL = 'must not contain control characters (U+0000-U+001F, U+007F)';
  const TOO_LONG = 'must be at most 1024 characters';
  const COLON = "must not contain ':' (a drive or an alternate data stream on Windows)";
  const DOTS_AND_SPACES = 'must not contain segments of only dots and spaces';
  const TRAILING = "must not contain segments ending in '.' or a space";

  it.each([
    ['empty', '', 'must not be empty'],
    ['absolute', '/abs', RELATIVE],
    ['backslash absolute', '\\abs', RELATIVE],
    ['UNC', '\\\\server\\share\\x', RELATIVE],
    ['drive with backslash', 'C:\\x', DRIVE],
    ['drive-relative', 'c:x', DRIVE],
    ['only ..', '..', DOTS],
    ['leading ..', '../x', DOTS],
    ['inner ..', 'a/../b', DOTS],
    ['inner .. with backslashes', 'a\\..\\b', DOTS],
    ['mixed separators', 'a/..\\b', DOTS],
    ['trailing ..', 'a/..', DOTS],
    ['leading .', './a', DOTS],
    ['inner .', 'a/./b', DOTS],
    ['double slash', 'a//b', EMPTY_SEGMENT],
    ['double backslash', 'a\\\\b', EMPTY_SEGMENT],
    ['trailing slash', 'a/', EMPTY_SEGMENT],
    ['NUL', 'a\u0000b', CONTROL],
    ['newline', 'a\nb', CONTROL],
    ['U+001F', 'a\u001fb', CONTROL],
    ['DEL', 'a\u007fb', CONTROL],
    ['fullwidth ..', 'a/\uff0e\uff0e/b', DOTS],
    ['two-dot leader', '\u2025/x', DOTS],
    ['fullwidth solidus before ..', 'a\uff0f..', DOTS],
    ['fullwidth leading solidus', '\uff0fetc/passwd', RELATIVE],
    ['a colon after the first segment', 'D/x:y', COLON],
    ['an alternate data stream', 'notes.txt:hidden', COLON],
    ['a fullwidth colon', 'ab\uff1ac', COLON],
    ['a fullwidth drive letter', '\uff23\uff1a\uff3cx', DRIVE],
    ['only dots', 'a/.../b', DOTS_AND_SPACES],
    ['dots and spaces', 'a/. ./b', DOTS_AND_SPACES],
    ['only a space', ' /b', DOTS_AND_SPACES],
    ['a no-break space only', '\u00a0/b', DOTS_AND_SPACES],
    ['a trailing dot', 'a/b.', TRAILING],
    ['a trailing space', 'dir /b', TRAILING],
    ['a trailing dot before a separator', 'x../y', TRAILING],
    ['1025 ASCII characters', MAX_ASCII + 'a', TOO_LONG],
    ['1025 astral characters', MAX_ASTRAL + '📄', TOO_LONG],
    ['5 million characters', 'x'.repeat(5_000_000), TOO_LONG],
  ])('rejects %s', (_label, path, problem) => {
    expect(filePathProblem(path)).toBe(problem);
  });
});
