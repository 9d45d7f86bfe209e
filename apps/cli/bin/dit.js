#!/usr/bin/env node
// The installed `dit` command: runs the compiled CLI. Build first (`pnpm build`).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
