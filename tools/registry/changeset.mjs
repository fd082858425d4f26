// @changesets/cli's bin turns on Node 22's compile cache; the CLI itself runs on Node 20.
await import('@changesets/cli');
