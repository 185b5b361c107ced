/**
 * The package's Node entry (`import … from 'vaekit'` under Node, `vaekit/node` anywhere): the
 * browser-safe entry (./browser.ts: the public API with the built-in plugins registered) plus
 * the Node-only API of src/node.ts (file data, saving to disk, PNG output, the CLI).
 */
export * from './browser.js';
export * from '../src/node.js';
