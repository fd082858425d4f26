#!/usr/bin/env node
// A checked-in shim so package managers can link the bin before the TypeScript build has produced dist/.
import('../dist/cli.js').catch((e) => {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli.js')) {
    process.stderr.write('sparse-conformance: the package is not built yet (run: npx -y pnpm@10.34.9 build)\n');
    process.exit(2);
  }
  throw e;
});
