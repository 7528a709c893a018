import { safeStorage } from 'electron';
import type { SecretBox } from '../host/index.ts';

/**
 * The OS keychain through Electron. On Linux without a secret service Electron falls back to a
 * hard-coded password ('basic_text'), which is no protection: treat that as no keychain.
 */
export const safeStorageBox: SecretBox = {
  isAvailable: () =>
    safeStorage.isEncryptionAvailable() &&
    (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text'),
  encrypt: (plain) => new Uint8Array(safeStorage.encryptString(plain)),
  decrypt: (sealed) => safeStorage.decryptString(Buffer.from(sealed)),
};
