// The entry point of the single-file bundle in dit.tar (see scripts/bundle.mjs).
import { main } from '../src/main.js';

process.exitCode = await main(process.argv.slice(2));
