import { parentPort, workerData } from 'node:worker_threads';
import { isWarroomError } from '../../../core/errors.js';
import { DiffTally, type HostDiff } from './engine.js';
import { diffPairs, type FromWorker, type ToWorker, type WorkerSetup } from './files.js';
import { NoiseRules } from './noise.js';
import { openForReadAt } from './snapshot-files.js';

/**
 * A diff worker: opens both files for random access and diffs the chunks of host pairs it is sent,
 * answering each with the changed hosts and a tally. The main thread indexed the files and orders
 * the answers.
 */
const setup = workerData as WorkerSetup;
const port = parentPort!;
const before = openForReadAt(setup.beforePath, setup.beforeKind);
const after = openForReadAt(setup.afterPath, setup.afterKind);
const rules = new NoiseRules(setup.userRules, setup.builtin);

port.on('message', (m: ToWorker) => {
  try {
    const tally = new DiffTally();
    const hosts: HostDiff[] = [];
    diffPairs(before, after, m.pairs, rules, tally, (d) => hosts.push(d));
    const reply: FromWorker = { type: 'result', id: m.id, hosts, tally: tally.toPart() };
    port.postMessage(reply);
  } catch (err) {
    const reply: FromWorker = isWarroomError(err)
      ? { type: 'error', id: m.id, code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
      : { type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
