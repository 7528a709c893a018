/**
 * A MoE layer's feed-forward block: Kimi's router (sigmoid scores, top-k chosen with the
 * correction bias, weights from the scores), the routed experts in one node, and the shared
 * experts' dense MLP added on. The experts' node is com.microsoft.MoE (interleaved SwiGLU) fed
 * log-weights, so the op's softmax renormalisation reproduces the normalised weights exactly;
 * int4 takes com.microsoft.QMoE, or on the CPU a MatMulNBits pair per expert under an If
 * (quantization/int4-experts.ts).
 */
import { attr } from '../../../onnx/graph-builder.ts';
import { DataType } from '../../../onnx/onnx-proto.ts';
import { int4ExpertBlockSize } from '../../../quantization/int4-blocks.ts';
import { int4ExpertsPerExpert } from '../../../quantization/int4-experts.ts';
import { int4Experts } from '../../../quantization/matmul-nbits.ts';
import { LM } from './tensor-names.ts';
import { denseMlp, type TextGraphContext } from './text-ops.ts';
import type { WeightRecipe } from './weight-recipes.ts';

const F32 = DataType.FLOAT;

/** The routed experts' node of a MoE layer (MoE or QMoE), named for the session's placement. */
export const expertsNode = (layer: number) => `layers.${layer}.mlp.experts`;

/** Layer `i`'s MoE block on the normalised hidden state `h`; returns its output, in the activations' type. */
export function moeBlock(c: TextGraphContext, h: string, i: number): string {
  const { g, t, opts, int4, act, axisLast } = c;
  const { weight, copy, i64, scalar, toAct, toF32, linear } = c;
  const D = t.hiddenSize;
  const hf = `${LM}.layers.${i}.mlp`;
  const m = `layers.${i}.mlp`;
  const E = t.nRoutedExperts;
  const I = t.moeIntermediateSize;
  const router = copy(`${m}.gate`, [E, D], `${hf}.gate.weight`, F32);
  const bias = copy(`${m}.gate.e_score_correction_bias`, [E], `${hf}.gate.e_score_correction_bias`, F32);
  const fc1Recipe: WeightRecipe = { kind: 'experts-fc1', prefix: `${hf}.experts`, experts: E };
  const fc2Recipe: WeightRecipe = { kind: 'experts-fc2', prefix: `${hf}.experts`, experts: E };
  // int4: symmetric blocks (zero point 8), one block size for fc1 and fc2.
  const block = int4ExpertBlockSize(D, I);
  const perExpert = int4 && opts.int4Experts === 'per-expert';
  // The per-expert form takes each expert's gate and up rows as two halves (one Split), QMoE and MoE interleaved.
  const cpuExperts = perExpert ? int4ExpertsPerExpert(g, `${m}.experts`, { experts: E, hidden: D, intermediate: I, blockSize: block, fc1: opts.produce({ ...fc1Recipe, halves: true }), fc2: opts.produce(fc2Recipe), accuracyLevel: opts.int4AccuracyLevel }) : undefined;

  const scores = g.op('Sigmoid', [linear(toF32(h, `${m}.router_input`), router, `${m}.router_logits`)], `${m}.router_scores`);
  const choice = g.op('Add', [scores, bias], `${m}.router_choice`);
  const [, chosen] = g.node('TopK', [choice, i64(`${m}.top_k`, [t.numExpertsPerTok])], `${m}.router_topk`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
  let weights = g.op('GatherElements', [scores, chosen], `${m}.router_weights_raw`, [attr.int('axis', -1)]);
  const total = g.op('ReduceSum', [weights, axisLast], `${m}.router_weight_sum`, [attr.int('keepdims', 1)]);
  if (t.normTopkProb) weights = g.op('Div', [weights, g.op('Add', [total, scalar(`${m}.router_eps`, 1e-20, F32)], `${m}.router_denominator`)], `${m}.router_weights`);
  const shared = () => (t.nSharedExperts === 0 ? undefined : denseMlp(c, h, I * t.nSharedExperts, `${hf}.shared_experts`, `${m}.shared_experts`));
  if (cpuExperts) {
    // Each token's scaled weight for each expert, 0 for the experts it did not choose.
    const scaled = g.op('Mul', [weights, scalar(`${m}.routed_scaling`, t.routedScalingFactor, F32)], `${m}.router_weights_scaled`);
    const none = g.op('Expand', [scalar(`${m}.router_unrouted`, 0, F32), g.op('Shape', [scores], `${m}.router_shape`)], `${m}.router_unrouted_full`);
    const routed = cpuExperts(h, g.op('ScatterElements', [none, chosen, scaled], `${m}.routing`, [attr.int('axis', -1)]), `${m}.experts`);
    const sharedOut = shared();
    return sharedOut ? g.op('Add', [routed, sharedOut], `${m}.output`) : routed;
  }
  // QMoE takes each fc as packed codes + block scales.
  const [fc1, fc1Scales] = int4 ? int4Experts(g, `${m}.experts.fc1`, E, 2 * I, D, opts.produce(fc1Recipe), block) : [weight(`${m}.experts.fc1`, [E, 2 * I, D], fc1Recipe), undefined];
  const [fc2, fc2Scales] = int4 ? int4Experts(g, `${m}.experts.fc2`, E, D, I, opts.produce(fc2Recipe), block) : [weight(`${m}.experts.fc2`, [E, D, I], fc2Recipe), undefined];
  // MoE renormalises the softmax of these logits over the chosen experts: log-weights with
  // −inf elsewhere give back exactly `weights / sum(weights)`.
  const blocked = g.op('Expand', [scalar(`${m}.router_blocked`, -Infinity, F32), g.op('Shape', [scores], `${m}.router_shape`)], `${m}.router_blocked_full`);
  const logits = g.op('ScatterElements', [blocked, chosen, g.op('Log', [weights], `${m}.router_log_weights`)], `${m}.router_probs`, [attr.int('axis', -1)]);
  // int4: QMoE runs in fp16 — its input, routing and block scales — because onnxruntime's
  // CUDA kernel takes nothing else (docs/onnxruntime.md); the CPU and WebGPU ones take it too.
  const toHalf = (x: string, name: string) => g.op('Cast', [x], name, [attr.int('to', DataType.FLOAT16)]);
  const moeInputs = fc1Scales && fc2Scales
    ? [toHalf(h, `${m}.experts_input_f16`), toHalf(logits, `${m}.router_probs_f16`), fc1, fc1Scales, '', fc2, fc2Scales]
    : [h, toAct(logits, `${m}.router_probs_act`), fc1, '', fc2];
  const quantAttrs = int4 ? [attr.int('expert_weight_bits', 4), attr.int('block_size', block)] : [];
  const experts = g.op(int4 ? 'QMoE' : 'MoE', moeInputs, expertsNode(i), [
    ...quantAttrs,
    attr.int('k', t.numExpertsPerTok),
    attr.string('activation_type', 'swiglu'),
    attr.int('swiglu_fusion', 1),
    attr.int('normalize_routing_weights', 1),
    attr.float('activation_alpha', 1),
    attr.float('activation_beta', 0),
    attr.float('swiglu_limit', 3.4e38),
  ], 'com.microsoft');
  const routed = int4 ? g.op('Cast', [experts], `${m}.experts_output`, [attr.int('to', act)]) : experts;
  // Unnormalised routing (norm_topk_prob false) multiplies back the sum the op divided out.
  const factor = t.normTopkProb ? scalar(`${m}.routed_scaling`, t.routedScalingFactor) : toAct(g.op('Mul', [total, scalar(`${m}.routed_scaling`, t.routedScalingFactor, F32)], `${m}.routed_factor_f32`), `${m}.routed_factor`);
  let out = g.op('Mul', [routed, factor], `${m}.routed`);
  const sharedOut = shared();
  if (sharedOut) out = g.op('Add', [out, sharedOut], `${m}.output`);
  return out;
}
