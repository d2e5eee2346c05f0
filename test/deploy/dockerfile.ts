import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { DockerfileParser, From, Instruction, JSONInstruction, ModifiableInstruction, PropertyInstruction } from 'dockerfile-ast';

/** One stage of a multi-stage Dockerfile: its FROM and the instructions up to the next FROM. */
export interface Stage {
  readonly from: From;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

export function parseStages(dockerfileText: string): Stage[] {
  const stages: { from: From; name: string | null; instructions: Instruction[] }[] = [];
  for (const instruction of DockerfileParser.parse(dockerfileText).getInstructions()) {
    if (instruction instanceof From) stages.push({ from: instruction, name: instruction.getBuildStage(), instructions: [] });
    else if (stages.length === 0) throw new Error(`${instruction.getKeyword()} before the first FROM`);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  return stages;
}

export function ofKeyword(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** The strings of an exec-form (JSON array) instruction, or undefined for the shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  if (!(instruction instanceof JSONInstruction)) return undefined;
  const strings = instruction.getJSONStrings().map((s) => s.getJSONValue());
  return strings.length > 0 ? strings : undefined;
}

/** The value of `--name=value` on an instruction (COPY --from, HEALTHCHECK --interval, ...). */
export function flag(instruction: Instruction, name: string): string | undefined {
  if (!(instruction instanceof ModifiableInstruction)) return undefined;
  const found = instruction.getFlags().find((f) => f.getName() === name);
  return found?.getValue() ?? undefined;
}

/**
 * A .dockerignore as BuildKit reads it: `**` spans folders, `*` and `?` stay within one, a pattern
 * that matches a folder excludes what is in it, `!` re-includes, the last matching line wins.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = posix.normalize((include ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '');
      return { include, regex: new RegExp(`^${globToRegex(pattern)}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.include;
    }
    return excluded;
  };
}

function globToRegex(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (pattern.startsWith('**/', i)) {
      out += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      out += '.*';
      i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** Copies `files` (paths relative to `from`) into `to`, keeping their folders. */
export function copyFiles(from: string, to: string, files: readonly string[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(from, file), join(to, file));
  }
}

export interface StepLog {
  readonly step: string;
  readonly ms: number;
}

/**
 * Runs the instructions of a build stage the way a builder would, without one: the image's
 * filesystem is the folder `rootfs`, WORKDIR moves within it, COPY takes from the build context
 * folder `context` (a folder source copies its contents, as Docker does), ENV adds to the
 * environment and RUN executes with `sh -c` (exec form: directly) in the working directory. Any
 * other instruction is refused, so the stage cannot grow a step this runner would skip.
 */
export async function runStage(stage: Stage, opts: { context: string; rootfs: string; env: Record<string, string>; timeoutMs: number }): Promise<StepLog[]> {
  const env = { ...opts.env };
  let workdir = '/';
  const log: StepLog[] = [];
  const inRoot = (path: string): string => join(opts.rootfs, posix.resolve(workdir, path));
  for (const instruction of stage.instructions) {
    const keyword = instruction.getKeyword();
    const started = Date.now();
    if (keyword === 'WORKDIR') {
      workdir = posix.resolve(workdir, instruction.getArgumentsContent() ?? '/');
      mkdirSync(inRoot('.'), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const property of (instruction as PropertyInstruction).getProperties()) env[property.getName()] = property.getValue() ?? '';
    } else if (keyword === 'COPY') {
      if (flag(instruction, 'from') !== undefined) throw new Error(`${instruction.toString()}: COPY --from in a build stage is not supported here`);
      const args = execForm(instruction) ?? instruction.getArguments().map((a) => a.getValue());
      const sources = args.slice(0, -1);
      const dest = args[args.length - 1];
      const intoFolder = dest.endsWith('/') || sources.length > 1;
      for (const source of sources) {
        const from = join(opts.context, source);
        const target = statSync(from).isDirectory() || !intoFolder ? inRoot(dest) : join(inRoot(dest), basename(source));
        mkdirSync(dirname(target), { recursive: true });
        cpSync(from, target, { recursive: true });
      }
    } else if (keyword === 'RUN') {
      const exec = execForm(instruction);
      const [command, ...args] = exec ?? ['sh', '-c', instruction.getArgumentsContent() ?? ''];
      await run(command, args, inRoot('.'), env, opts.timeoutMs, instruction.toString());
    } else {
      throw new Error(`${keyword} in a build stage is not supported by this runner`);
    }
    log.push({ step: instruction.toString().split('\n')[0], ms: Date.now() - started });
  }
  return log;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`));
    });
  });
}
