/**
 * Every tensor of a Kimi-VL checkpoint with the shape config.json implies, in the exact
 * Hugging Face names. Used to validate a checkpoint before import and to write test checkpoints.
 */
import { isMoeLayer, type KimiTextConfig, type KimiVLConfig, type KimiVisionConfig } from '../configuration.ts';

export type ShapeMap = Map<string, readonly number[]>;

export const LM = 'language_model.model';

export function textTensorShapes(t: KimiTextConfig): ShapeMap {
  const m: ShapeMap = new Map();
  const d = t.hiddenSize;
  const qHead = t.qkNopeHeadDim + t.qkRopeHeadDim;
  m.set(`${LM}.embed_tokens.weight`, [t.vocabSize, d]);
  for (let i = 0; i < t.numHiddenLayers; i++) {
    const p = `${LM}.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
    m.set(`${p}.self_attn.q_proj.weight`, [t.numAttentionHeads * qHead, d]);
    m.set(`${p}.self_attn.kv_a_proj_with_mqa.weight`, [t.kvLoraRank + t.qkRopeHeadDim, d]);
    m.set(`${p}.self_attn.kv_a_layernorm.weight`, [t.kvLoraRank]);
    m.set(`${p}.self_attn.kv_b_proj.weight`, [t.numAttentionHeads * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank]);
    m.set(`${p}.self_attn.o_proj.weight`, [d, t.numAttentionHeads * t.vHeadDim]);
    if (isMoeLayer(t, i)) {
      m.set(`${p}.mlp.gate.weight`, [t.nRoutedExperts, d]);
      m.set(`${p}.mlp.gate.e_score_correction_bias`, [t.nRoutedExperts]);
      for (let e = 0; e < t.nRoutedExperts; e++) {
        m.set(`${p}.mlp.experts.${e}.gate_proj.weight`, [t.moeIntermediateSize, d]);
        m.set(`${p}.mlp.experts.${e}.up_proj.weight`, [t.moeIntermediateSize, d]);
        m.set(`${p}.mlp.experts.${e}.down_proj.weight`, [d, t.moeIntermediateSize]);
      }
      if (t.nSharedExperts > 0) {
        const s = t.moeIntermediateSize * t.nSharedExperts;
        m.set(`${p}.mlp.shared_experts.gate_proj.weight`, [s, d]);
        m.set(`${p}.mlp.shared_experts.up_proj.weight`, [s, d]);
        m.set(`${p}.mlp.shared_experts.down_proj.weight`, [d, s]);
      }
    } else {
      m.set(`${p}.mlp.gate_proj.weight`, [t.intermediateSize, d]);
      m.set(`${p}.mlp.up_proj.weight`, [t.intermediateSize, d]);
      m.set(`${p}.mlp.down_proj.weight`, [d, t.intermediateSize]);
    }
  }
  m.set(`${LM}.norm.weight`, [d]);
  m.set('language_model.lm_head.weight', [t.vocabSize, d]);
  return m;
}

/** The leftover RoPE buffers the official checkpoint carries (ignored on load). */
export function rotaryBufferNames(t: KimiTextConfig): string[] {
  return Array.from({ length: t.numHiddenLayers }, (_, i) => `${LM}.layers.${i}.self_attn.rotary_emb.inv_freq`);
}

export function visionTensorShapes(v: KimiVisionConfig, textHidden: number): ShapeMap {
  const m: ShapeMap = new Map();
  const d = v.hiddenSize;
  const merged = d * v.mergeKernelSize[0] * v.mergeKernelSize[1];
  m.set('vision_tower.patch_embed.proj.weight', [d, 3, v.patchSize, v.patchSize]);
  m.set('vision_tower.patch_embed.proj.bias', [d]);
  m.set('vision_tower.patch_embed.pos_emb.weight', [v.initPosEmbHeight, v.initPosEmbWidth, d]);
  for (let n = 0; n < v.numHiddenLayers; n++) {
    const p = `vision_tower.encoder.blocks.${n}`;
    m.set(`${p}.norm0.weight`, [d]);
    m.set(`${p}.norm0.bias`, [d]);
    m.set(`${p}.wqkv.weight`, [3 * d, d]);
    m.set(`${p}.wqkv.bias`, [3 * d]);
    m.set(`${p}.wo.weight`, [d, d]);
    m.set(`${p}.wo.bias`, [d]);
    m.set(`${p}.norm1.weight`, [d]);
    m.set(`${p}.norm1.bias`, [d]);
    m.set(`${p}.mlp.fc0.weight`, [v.intermediateSize, d]);
    m.set(`${p}.mlp.fc0.bias`, [v.intermediateSize]);
    m.set(`${p}.mlp.fc1.weight`, [d, v.intermediateSize]);
    m.set(`${p}.mlp.fc1.bias`, [d]);
  }
  m.set('vision_tower.encoder.final_layernorm.weight', [d]);
  m.set('vision_tower.encoder.final_layernorm.bias', [d]);
  m.set('multi_modal_projector.pre_norm.weight', [d]);
  m.set('multi_modal_projector.pre_norm.bias', [d]);
  m.set('multi_modal_projector.linear_1.weight', [merged, merged]);
  m.set('multi_modal_projector.linear_1.bias', [merged]);
  m.set('multi_modal_projector.linear_2.weight', [textHidden, merged]);
  m.set('multi_modal_projector.linear_2.bias', [textHidden]);
  return m;
}

export function allTensorShapes(c: KimiVLConfig): ShapeMap {
  return new Map([...textTensorShapes(c.text), ...visionTensorShapes(c.vision, c.text.hiddenSize)]);
}
