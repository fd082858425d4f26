import { join } from 'node:path';

/** The public registry, where the local one fetches third-party packages (fast-check, tf.js, typescript …). */
export const UPLINK = process.env.SPARSE_REGISTRY_UPLINK ?? 'https://registry.npmjs.org/';

/**
 * Verdaccio's configuration: everything under `dir`; `@sparse/*` is served only from what was published here
 * (never looked up upstream), every other package is proxied from the uplink and cached.
 */
export function verdaccioConfig(dir: string): string {
  const proxy = process.env.HTTPS_PROXY ?? process.env.https_proxy;
  return `storage: ${JSON.stringify(join(dir, 'storage'))}
auth:
  htpasswd:
    file: ${JSON.stringify(join(dir, 'htpasswd'))}
    max_users: 10
uplinks:
  npmjs:
    url: ${JSON.stringify(UPLINK)}
    timeout: 120s
    max_fails: 20
    fail_timeout: 1s${proxy ? `\n    https_proxy: ${JSON.stringify(proxy)}` : ''}
packages:
  '@sparse/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    proxy: npmjs
web:
  enable: false
max_body_size: 300mb
log: { type: stdout, format: pretty, level: warn }
`;
}
