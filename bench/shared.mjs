// Kept for bench/service.mjs until it moves into a folder of its own: the helpers live in lib/shared.mjs.
export * from './lib/shared.mjs';
