#!/usr/bin/env node
import { installForwarding } from './forward.js';
import { buildProgram } from './program.js';
import { localIo, reportError } from './run.js';

// Every command is defined once (cli/program.ts). It runs here, or, while another Warroom
// process owns the embedded store, in that process (cli/forward.ts).
const io = localIo();
const program = buildProgram(io);
installForwarding(program, io, process.argv.slice(2));
program.parseAsync(process.argv).catch(reportError);
