import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { nginxTemplate, renderTemplate } from './nginx';

const ENV = { NGINX_PORT: '8080', APP_1_ADDR: 'app1:3000', APP_2_ADDR: 'app2:3000' };

describe('renderTemplate (what the nginx image does to /etc/nginx/templates/*.template)', () => {
  it('fills in defined variables, braced or bare, and leaves nginx variables and undefined ones alone', () => {
    const sut = renderTemplate('listen ${NGINX_PORT}; server $APP_1_ADDR; set $x $remote_addr${UNSET}; $APP_1_ADDRx', ENV);

    expect(sut).toBe('listen 8080; server app1:3000; set $x $remote_addr${UNSET}; $APP_1_ADDRx');
  });

  // The image runs `envsubst "$defined_envs"`: where GNU envsubst is installed, the shipped file
  // must come out byte for byte the same.
  const envsubst = ['/usr/bin/envsubst', '/bin/envsubst'].find((p) => existsSync(p));
  (envsubst ? it : it.skip)('renders the shipped docker/nginx/app.conf.template exactly as envsubst does', () => {
    const template = readFileSync(nginxTemplate(), 'utf8');
    const expected = execFileSync(envsubst!, [Object.keys(ENV).map((k) => `\${${k}}`).join(' ')], { input: template, env: ENV, encoding: 'utf8' });

    const sut = renderTemplate(template, ENV);

    expect(sut).toBe(expected);
    expect(sut).not.toMatch(/\$\{/);
  });
});
