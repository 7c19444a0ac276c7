// jsdom lacks requestIdleCallback, which ReactWidget uses to resolve renderPromise.
if (typeof globalThis.requestIdleCallback === 'undefined') {
  globalThis.requestIdleCallback = callback => setTimeout(() => callback({ didTimeout: false, timeRemaining: () => 0 }), 0);
  globalThis.cancelIdleCallback = handle => clearTimeout(handle);
}
// React: tests wrap renders in act().
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
