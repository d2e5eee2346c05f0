import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Child } from '../shared/child';

const TEMPLATE_PATH = join('docker', 'nginx', 'app.conf.template');

/**
 * The one nginx config the project ships; docker/compose.yml mounts the same file. Found from
 * tools/stack/ (under jest) and from dist-dev/tools/stack/ (compiled) alike.
 */
export function nginxTemplate(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, TEMPLATE_PATH))) return join(dir, TEMPLATE_PATH);
  }
  throw new Error(`${TEMPLATE_PATH} not found above ${__dirname}`);
}
export const NGINX_BIN = '/usr/sbin/nginx';

/**
 * What the official nginx image's entrypoint (20-envsubst-on-templates.sh) does to a template:
 * `envsubst "$defined_envs"`, i.e. `$NAME` and `${NAME}` are replaced for the variables that are
 * defined, and everything else (nginx's `$remote_addr`, an undefined `${X}`) is left as written.
 */
export function renderTemplate(template: string, env: Readonly<Record<string, string>>): string {
  return template.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare!;
    return Object.hasOwn(env, name) ? env[name] : whole;
  });
}

export interface NginxOptions {
  /** Its own folder: conf.d/, logs/, temp/, the main config and the pid file. */
  readonly dir: string;
  readonly port: number;
  /** host:port of each instance; one instance is named twice (the template has two servers). */
  readonly upstreams: readonly [string, string];
}

/**
 * The worker user when started as root: nginx's default, `nobody`, named with its group (not always
 * called nobody: Debian's is nogroup), which nginx would otherwise look up by the user's name. nginx
 * itself makes the temp folders that user's at start.
 */
function workerUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return `nobody ${execFileSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).trim()}`;
}

/**
 * A small main config in place of /etc/nginx/nginx.conf: every path under `dir` (nothing in /var),
 * an access log that names the instance that answered, and the rendered template as conf.d/app.conf.
 */
function writeConfig({ dir, port, upstreams }: NginxOptions): string {
  const user = workerUser();
  const temp = join(dir, 'temp');
  for (const sub of ['conf.d', 'logs', temp]) mkdirSync(resolve(dir, sub), { recursive: true });
  const rendered = renderTemplate(readFileSync(nginxTemplate(), 'utf8'), {
    NGINX_PORT: `127.0.0.1:${port}`,
    APP_1_ADDR: upstreams[0],
    APP_2_ADDR: upstreams[1],
  });
  writeFileSync(join(dir, 'conf.d', 'app.conf'), rendered);
  const main = join(dir, 'nginx.conf');
  writeFileSync(
    main,
    [
      '# Written by tools/stack/nginx.ts at each start: the main config around conf.d/app.conf.',
      ...(user ? [`user ${user};`] : []),
      'worker_processes auto;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 4096; }',
      'http {',
      `    log_format stack '$remote_addr "$request" $status $request_time upstream=$upstream_addr ($upstream_status) id=$app_request_id';`,
      `    access_log ${join(dir, 'logs', 'access.log')} stack;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(temp, kind)};`),
      `    include ${join(dir, 'conf.d', '*.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return main;
}

/**
 * nginx in the foreground (`daemon off`), its prefix and config under `dir`. The config is checked
 * first (`nginx -t`), so a bad one fails with nginx's own message.
 */
export function startNginx(options: NginxOptions): Child {
  const main = writeConfig(options);
  const args = ['-p', `${options.dir}/`, '-c', main, '-e', 'stderr'];
  try {
    execFileSync(NGINX_BIN, [...args, '-t', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`nginx -t refused ${main}:\n${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  return new Child('nginx', NGINX_BIN, [...args, '-g', 'daemon off;'], { keepLines: 2_000 });
}
