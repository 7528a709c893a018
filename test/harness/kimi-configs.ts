import { readFileSync } from 'node:fs';
import { parseKimiVLConfig, type KimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import { tinyConfigJson } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';

/** Kimi-VL-A3B-Instruct's config.json, as published. */
export function realKimiConfig(): KimiVLConfig {
  return parseKimiVLConfig(JSON.parse(readFileSync(new URL('../fixtures/kimi-vl/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8')));
}

/** The configurations whose graphs the kernel checks cover: the real model's and the tiny test checkpoint's. */
export function checkedKimiConfigs(): KimiVLConfig[] {
  return [realKimiConfig(), parseKimiVLConfig(tinyConfigJson())];
}
