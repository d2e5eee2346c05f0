import { join } from 'node:path';
import madge from 'madge';

/**
 * The import rules of docs/ARCHITECTURE.md. Infrastructure, lowest first: a folder may import only
 * the folders before it. Features build on infrastructure; the composition (the request pipeline,
 * the OpenAPI builder) and the root files (app.module, app.factory, main) sit on top.
 */
const INFRASTRUCTURE = ['config', 'telemetry', 'database', 'cluster', 'cache', 'http', 'access', 'monitoring'];
const FEATURES = ['auth', 'projects', 'files', 'activities', 'debugging'];
const COMPOSITION = ['pipeline', '(root)'];

const ROOT = join(__dirname, '..');

type Graph = Record<string, string[]>;

/** `projects/project.service.ts` -> `projects`; a file directly in src/ -> `(root)`. */
function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '(root)' : file.slice(0, slash);
}

/** Folder -> folder it imports -> the file imports that make the edge. */
function foldToFolders(graph: Graph): Map<string, Map<string, string[]>> {
  const folders = new Map<string, Map<string, string[]>>();
  for (const [file, imports] of Object.entries(graph)) {
    // Outside src/ (the migrations the data source loads): not a folder of the application.
    if (file.startsWith('../')) continue;
    const from = folderOf(file);
    const edges = folders.get(from) ?? new Map<string, string[]>();
    folders.set(from, edges);
    for (const imported of imports) {
      if (imported.startsWith('../')) continue;
      const to = folderOf(imported);
      if (to !== from) edges.set(to, [...(edges.get(to) ?? []), `${file} -> ${imported}`]);
    }
  }
  return folders;
}

/** Groups of folders that import each other, directly or around a loop (Tarjan's components). */
function folderComponents(folders: Map<string, Map<string, string[]>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of folders.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) components.push(component.sort());
  };
  for (const v of folders.keys()) if (!index.has(v)) visit(v);
  return components;
}

/** The shortest loop from `start` back to itself through the folders of one component. */
function shortestLoop(folders: Map<string, Map<string, string[]>>, component: string[], start: string): string[] {
  const inside = new Set(component);
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of folders.get(v)?.keys() ?? []) {
      if (w === start) {
        const loop = [v];
        while (loop[0] !== start) loop.unshift(previous.get(loop[0])!);
        return loop;
      }
      if (!inside.has(w) || previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  return [start];
}

/**
 * A folder cycle as the shortest loops through it, each step with the imports that make it (the
 * first three): the import to remove is usually the one step that goes the wrong way.
 */
function describeCycle(folders: Map<string, Map<string, string[]>>, component: string[]): string {
  const loops = component.map((start) => shortestLoop(folders, component, start));
  const shortest = Math.min(...loops.map((loop) => loop.length));
  const seen = new Set<string>();
  const lines = [`${component.join(', ')} import each other:`];
  for (const loop of loops.filter((l) => l.length === shortest)) {
    const rotated = [...loop].sort().join(',');
    if (seen.has(rotated)) continue;
    seen.add(rotated);
    lines.push(`  ${[...loop, loop[0]].join(' -> ')}`);
    loop.forEach((from, i) => {
      const to = loop[(i + 1) % loop.length];
      const edges = folders.get(from)!.get(to)!;
      const more = edges.length > 3 ? ` (and ${edges.length - 3} more)` : '';
      lines.push(`    ${from} -> ${to}: ${edges.slice(0, 3).join('; ')}${more}`);
    });
  }
  return lines.join('\n');
}

describe('architecture of src/', () => {
  let graph: Graph;
  let circular: string[][];
  let skipped: string[];

  beforeAll(async () => {
    // Specs are left out: nothing imports them, and a unit spec may use other folders' DTOs as fixtures.
    const result = await madge(join(ROOT, 'src'), {
      fileExtensions: ['ts'],
      tsConfig: join(ROOT, 'tsconfig.json'),
      excludeRegExp: [/\.spec\.ts$/],
    });
    graph = result.obj();
    circular = result.circular();
    skipped = result.warnings().skipped;
  }, 60_000);

  it('resolves every import, so no edge goes unchecked', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(50);
    expect(skipped).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles = circular.map((cycle) => [...cycle, cycle[0]].join(' -> '));
    expect(cycles).toEqual([]);
  });

  it('has no import cycle between the folders of src/', () => {
    const folders = foldToFolders(graph);
    const problems = folderComponents(folders).map((component) => describeCycle(folders, component));
    expect(problems).toEqual([]);
  });

  it('puts every folder of src/ in a layer', () => {
    const known = new Set([...INFRASTRUCTURE, ...FEATURES, ...COMPOSITION]);
    const unknown = [...foldToFolders(graph).keys()].filter((folder) => !known.has(folder));
    expect(unknown).toEqual([]);
  });

  it('keeps infrastructure below features: each infrastructure folder imports only those before it', () => {
    const folders = foldToFolders(graph);
    const problems = INFRASTRUCTURE.flatMap((from, level) => {
      const allowed = new Set(INFRASTRUCTURE.slice(0, level));
      return [...(folders.get(from) ?? new Map<string, string[]>())]
        .filter(([to]) => !allowed.has(to))
        .flatMap(([, edges]) => edges);
    });
    expect(problems).toEqual([]);
  });

  it('keeps features below the composition: no feature imports the pipeline or the root files', () => {
    const folders = foldToFolders(graph);
    const problems = FEATURES.flatMap((from) =>
      [...(folders.get(from) ?? new Map<string, string[]>())].filter(([to]) => COMPOSITION.includes(to)).flatMap(([, edges]) => edges),
    );
    expect(problems).toEqual([]);
  });
});

