'use strict';
// The `require('vaekit')` entry. vaekit is an ES module; Node ≥ 20.19 (and ≥ 22.12) can require()
// an ES module, so this loads the ES entry. On an older Node the error says what to do instead.
try {
  module.exports = require('../dist/plugins/index.js');
} catch (e) {
  if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      `vaekit is an ES module and this Node (${process.version}) cannot require() it: use \`import { createVae } from 'vaekit'\` ` +
        `(an .mjs file, or "type": "module" in your package.json), \`await import('vaekit')\` from CommonJS, or Node >= 20.19 / 22.12`,
      { cause: e },
    );
  }
  throw e;
}
