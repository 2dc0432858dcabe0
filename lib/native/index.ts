// The native layer's production contract: the typed binding and the walk codec. Test-only
// hooks live in ./testing.ts and are not re-exported here.
export * from './binding.js';
export * from './walk.js';
export * from './bytes.js';
export * from './call.js';
