/**
 * Routed int4 experts as the CPU runs them fastest: every expert's fc1 and fc2 is its own
 * com.microsoft.MatMulNBits — which onnxruntime prepacks at load like any dense int4 weight, and
 * multiplies with int8 activations at accuracy level 4 — inside an If that runs only when some
 * token chose that expert. The branch gathers the tokens routed to the expert, applies SwiGLU
 * and adds the weighted result back into the running sum (ScatterND with reduction `add`), so a
 * decode step reads only the chosen experts' blocks, and a prefill does each token's own work.
 *
 * Measured against com.microsoft.QMoE (scripts/bench-experts.ts, onnxruntime 1.30, one layer of
 * 64 experts): about 2× faster to decode and to prefill, and about 4× faster to load — QMoE's CPU
 * kernel unpacks every expert to a byte per weight and repacks it once more at load, keeping both
 * (docs/int4-on-the-cpu.md). GPUs keep QMoE: there an If reads its condition back to the host,
 * once per expert and layer.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { DEFAULT_INT4_ACCURACY_LEVEL, int4NBits, quantizedExpertByExpert, type Fp32Source, type Int4AccuracyLevel } from './matmul-nbits.ts';

export interface PerExpertOptions {
  readonly experts: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly blockSize: number;
  /** Each expert's gate rows, then its up rows, [2 × intermediate, hidden]: the `experts-fc1` recipe with `halves`. */
  readonly fc1: Fp32Source;
  /** Each expert's down projection, [hidden, intermediate]. */
  readonly fc2: Fp32Source;
  readonly accuracyLevel?: Int4AccuracyLevel;
}

/**
 * Declares the experts' weights under `name` (`${name}.<e>.fc1.weight_q4`, …) and returns
 * `apply(x, routing, nodeName)`: x [tokens, hidden] fp32, routing [tokens, experts] fp32 — each
 * token's weight for each expert, 0 where it did not choose it — to Σₑ routingₑ · expertₑ(x).
 */
export function int4ExpertsPerExpert(g: GraphBuilder, name: string, o: PerExpertOptions) {
  const { experts: E, hidden: D, intermediate: I, blockSize } = o;
  // Each expert's fc1 and fc2 quantised on its own where the sources stream experts one at a
  // time (each its own weight group), else the layer's once (one group for the layer).
  const fc1 = quantizedExpertByExpert(`${name}.fc1`, o.fc1, E, 2 * I, D, blockSize, 2);
  const fc2 = quantizedExpertByExpert(`${name}.fc2`, o.fc2, E, D, I, blockSize, 2);
  const accuracyLevel = o.accuracyLevel ?? DEFAULT_INT4_ACCURACY_LEVEL;
  const layerGroup = fc1.alone && fc2.alone ? {} : { group: name };
  const linears = Array.from({ length: E }, (_, e) => ({
    fc1: int4NBits(g, `${name}.${e}.fc1`, 2 * I, D, () => fc1.get(e), { blockSize, symmetric: true, accuracyLevel, ...layerGroup }),
    fc2: int4NBits(g, `${name}.${e}.fc2`, D, I, () => fc2.get(e), { blockSize, symmetric: true, accuracyLevel, ...layerGroup }),
  }));
  const I64 = DataType.INT64;
  const F32 = DataType.FLOAT;

  return (x: string, routing: string, nodeName: string): string => {
    const zero = g.constant(`${nodeName}.zero`, F32, [], [0]);
    const chosenBy = g.op('ReduceMax', [routing, g.constant(`${nodeName}.token_axis`, I64, [1], [0])], `${nodeName}.weight_max`, [attr.int('keepdims', 0)]);
    const chosen = g.op('Greater', [chosenBy, zero], `${nodeName}.chosen`);
    // One flag per expert, [1] each, from a single node (not a Gather per expert).
    const flags = g.node('Split', [chosen], `${nodeName}.is_chosen`, { outputs: E, attrs: [attr.int('axis', 0), attr.int('num_outputs', E)] });
    // Each expert's column of the routing weights, [tokens] each, again from one node: a branch
    // that runs starts from its column instead of gathering it.
    const byExpert = g.op('Reshape', [g.op('Transpose', [routing], `${nodeName}.routing_by_expert`, [attr.ints('perm', [1, 0])]), g.constant(`${nodeName}.flat`, I64, [1], [-1])], `${nodeName}.routing_flat`);
    const columns = g.node('Split', [byExpert], `${nodeName}.column`, { outputs: E, attrs: [attr.int('axis', 0), attr.int('num_outputs', E)] });
    let sum = g.op('Mul', [x, zero], `${nodeName}.sum_0`);
    for (let e = 0; e < E; e++) {
      const p = `${nodeName}.${e}`;
      const before = sum;
      const weights = columns[e]!;
      const then = g.branch(`${p}.run`, F32, (b) => {
        // The tokens that chose the expert as [n, 1]: GatherND's and ScatterND's row indices.
        // A weight is never negative (sigmoid scores), so its non-zeros are the routed tokens.
        const rows = b.op('Transpose', [b.op('NonZero', [weights], `${p}.routed_rows`)], `${p}.rows`, [attr.ints('perm', [1, 0])]);
        const h = linears[e]!.fc1(b.op('GatherND', [x, rows], `${p}.x`), `${p}.fc1`, b);
        // fc1's rows are the gate's, then the up projection's: its output halves are the two.
        const [gate, up] = b.node('Split', [h], `${p}.gate_up`, { outputs: 2, attrs: [attr.int('axis', -1), attr.int('num_outputs', 2)] }) as [string, string];
        const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate], `${p}.gate_sigmoid`)], `${p}.silu`), up], `${p}.gated`);
        const y = linears[e]!.fc2(act, `${p}.fc2`, b);
        const weighted = b.op('Mul', [y, b.op('Gather', [weights, rows], `${p}.row_weights`, [attr.int('axis', 0)])], `${p}.weighted`);
        // Each token once per expert, so ScatterND's adds, which onnxruntime spreads over its
        // threads, never meet on a row (one ScatterND for all experts' rows would race).
        return b.op('ScatterND', [before, rows, weighted], `${p}.added`, [attr.string('reduction', 'add')]);
      });
      // onnxruntime refuses a branch that returns an outer value without a node.
      const skip = g.branch(`${p}.skip`, F32, (b) => b.op('Identity', [before], `${p}.unchanged`));
      sum = g.op('If', [flags[e]!], `${p}.sum`, [attr.graph('then_branch', then), attr.graph('else_branch', skip)]);
    }
    return sum;
  };
}
