/**
 * Encrypts secrets at rest. In Electron this is `safeStorage` (the OS keychain: Keychain,
 * DPAPI, libsecret/kwallet); the browser host has none and stores no secrets at all: the key
 * is read from the environment variable named in Settings instead.
 */
export interface SecretBox {
  /** False when the OS offers no real keychain; then keys are not stored. */
  isAvailable(): boolean;
  encrypt(plain: string): Uint8Array;
  decrypt(sealed: Uint8Array): string;
}

/** The browser host's box: nothing can be stored. */
export const NO_SECRET_BOX: SecretBox = {
  isAvailable: () => false,
  encrypt: () => {
    throw new Error('no keychain is available to encrypt secrets');
  },
  decrypt: () => {
    throw new Error('no keychain is available to decrypt secrets');
  },
};
