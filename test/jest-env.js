/**
 * JupyterLab's jsdom test environment, plus the Node globals jose needs: WebCrypto
 * (`crypto.subtle`; jsdom only has getRandomValues) and `structuredClone`.
 */
const JupyterLabEnvironment = require('@jupyterlab/testing/lib/jest-env').default;

class OidcTestEnvironment extends JupyterLabEnvironment {
  constructor(...args) {
    super(...args);
    Object.defineProperty(this.global, 'crypto', { configurable: true, value: globalThis.crypto });
    this.global.structuredClone = globalThis.structuredClone;
  }
}

module.exports = OidcTestEnvironment;
