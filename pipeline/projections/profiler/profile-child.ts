/**
 * Entry point of the profiling process (spawned by ProfileWorker): receives jobs over IPC, runs them one at a time
 * and replies with the profile or an error; exits when the parent disconnects. A DuckDB crash or an out-of-memory
 * kill here ends only this process, never the broker.
 */
import { profileError, runJob } from './engine.ts';
import type { ChildRequest, ChildResponse } from './engine.ts';

if (!process.send) throw new Error('profile-child.ts runs as a child process with an IPC channel (see ProfileWorker)');
const send = process.send.bind(process);
let queue = Promise.resolve();
process.on('message', (msg: ChildRequest) => {
  queue = queue.then(async () => {
    let response: ChildResponse;
    try {
      response = { id: msg.id, ok: true, ...(await runJob(msg.job, msg.settings)) };
    } catch (err) {
      response = { id: msg.id, ok: false, error: profileError(err) };
    }
    send(response);
  });
});
process.on('disconnect', () => process.exit(0));
