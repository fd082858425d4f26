// Child-process entry of the local registry: Verdaccio on 127.0.0.1 and a port the OS picks (no race for a free
// port), which it prints as one JSON line for the parent to read.
import { runServer } from 'verdaccio';

const server = await runServer(process.argv[2]);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent's IPC channel closes when it dies, even by SIGKILL: no registry is left running behind a test run.
process.on('disconnect', stop);
