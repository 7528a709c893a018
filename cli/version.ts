/** Kestrel's version, as `kestrel --version` and the browser host report it (package.json's `version`). */
export const VERSION = '0.1.0';
