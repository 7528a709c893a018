/**
 * What an import of Kimi-VL-A3B (16.4 B parameters) writes, per precision, in bytes: the
 * importer's own estimate (native-models weights-size.ts, from the checkpoint's config.json),
 * kept here so the app can say it without building graphs. model-sizes.test.ts recomputes it,
 * and checks the README's table against it, so the three never disagree.
 */
export interface WeightSizes {
  /** text-model.onnx.data */
  readonly text: number;
  /** vision-model.onnx.data */
  readonly vision: number;
  readonly total: number;
}

export const KIMI_VL_A3B_WEIGHTS: { readonly int4: WeightSizes; readonly fp16: WeightSizes; readonly fp32: WeightSizes } = {
  int4: { text: 8_781_905_920, vision: 895_987_712, total: 9_677_893_632 },
  fp16: { text: 31_927_447_552, vision: 895_987_712, total: 32_823_435_264 },
  fp32: { text: 63_840_595_968, vision: 1_790_943_232, total: 65_631_539_200 },
};
