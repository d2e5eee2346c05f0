import { closedFolders, SystemUser } from './embedded-postgres.access';

const POSTGRES: SystemUser = { uid: 101, gid: 104 };

/** A fake file system: folder -> mode, owner, group. */
function tree(folders: Record<string, [mode: number, uid: number, gid: number]>) {
  return (folder: string) => {
    const [mode, uid, gid] = folders[folder];
    return { mode, uid, gid };
  };
}

describe('closedFolders', () => {
  it('names every folder on the way whose other bits deny entry to a user that owns nothing there', () => {
    const stat = tree({ '/': [0o755, 0, 0], '/tmp': [0o1777, 0, 0], '/tmp/x': [0o700, 0, 0], '/tmp/x/data': [0o750, 0, 0] });

    const sut = closedFolders('/tmp/x/data', POSTGRES, stat);

    expect(sut).toEqual([
      { folder: '/tmp/x', grant: 'o+x' },
      { folder: '/tmp/x/data', grant: 'o+x' },
    ]);
  });

  it('applies the owner bits alone to the owner, and the group bits alone to its primary group', () => {
    const stat = tree({ '/': [0o755, 0, 0], '/a': [0o611, 101, 0], '/a/b': [0o705, 0, 104], '/a/b/c': [0o070, 101, 104] });

    expect(closedFolders('/a/b/c', POSTGRES, stat)).toEqual([
      { folder: '/a', grant: 'u+x' },
      { folder: '/a/b', grant: 'g+x' },
      { folder: '/a/b/c', grant: 'u+x' },
    ]);
  });

  it('judges a user not created yet by the other bits, whoever owns the folder', () => {
    const stat = tree({ '/': [0o755, 0, 0], '/srv': [0o770, 101, 104] });

    expect(closedFolders('/srv', undefined, stat)).toEqual([{ folder: '/srv', grant: 'o+x' }]);
    expect(closedFolders('/srv', POSTGRES, stat)).toEqual([]);
  });
});
