// kubernetes-models and @kubernetes-models/* (the manifest checks in test/deploy) export their ESM
// under the "import" condition only, which Jest's require()-side resolution never matches. For
// them alone, resolve as an import would; swc then turns them into CommonJS like the other
// ESM-only packages in jest.config.js.
const IMPORT_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(request, IMPORT_ONLY.test(request) ? { ...options, conditions: ['import', 'node', 'default'] } : options);
