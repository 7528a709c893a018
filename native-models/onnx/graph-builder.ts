/**
 * Builds an ONNX graph node by node. Values are named after the node that produces them, so
 * an intermediate such as `layers.3.attn.scores` can be exposed as an extra output and compared
 * with a reference. Large weights are declared with a producer and written to external data
 * later (external-data.ts); small constants are stored inline.
 */
import { float32ToFloat16 } from "../numeric/half.ts";
import { DataType, type Attribute, type DataTypeCode, type GraphProto, type NodeProto, type TensorProto, type ValueInfo } from './onnx-proto.ts';

/** Attribute constructors: ONNX needs the kind spelled out (1.0 is a float, not an int). */
export const attr = {
  int: (name: string, value: number | bigint): Attribute => ({ name, kind: 'int', value }),
  float: (name: string, value: number): Attribute => ({ name, kind: 'float', value }),
  ints: (name: string, value: readonly (number | bigint)[]): Attribute => ({ name, kind: 'ints', value }),
  floats: (name: string, value: readonly number[]): Attribute => ({ name, kind: 'floats', value }),
  string: (name: string, value: string): Attribute => ({ name, kind: 'string', value }),
  graph: (name: string, value: GraphProto): Attribute => ({ name, kind: 'graph', value }),
};

/**
 * A weight whose values are produced (streamed, in row-major order) when the model is written:
 * as fp32 for float weights, as raw bytes for uint8 (packed quantised) weights.
 */
export interface WeightSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: DataTypeCode;
  /**
   * Chunks must be fresh arrays, never touched again once yielded: the parallel writer hands
   * them to another thread (weight-pool.ts).
   */
  readonly produce: () => AsyncIterable<Float32Array | Uint8Array>;
  /**
   * The values of rows [from, to) of the first dimension alone (same contract), for weights that
   * can make a part of themselves: a parallel writer then shares a large one among its workers.
   */
  readonly rows?: (from: number, to: number) => AsyncIterable<Float32Array | Uint8Array>;
  /**
   * Weights made by one computation (a quantised matrix's codes, scales and zero points) share
   * a group name; they are declared one after another and produced in one place, in order.
   */
  readonly group?: string;
}

export const INT64_MAX = 9223372036854775807n;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly constants: TensorProto[] = [];
  readonly weights: WeightSpec[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];

  /** `names`: the value names already taken (shared with the outer graph by a branch). */
  constructor(private readonly names = new Set<string>()) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph value '${name}' is defined twice`);
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, shape: readonly (number | string)[]): string {
    this.inputs.push({ name: this.claim(name), elemType, shape });
    return name;
  }

  output(name: string, elemType: DataTypeCode, shape?: readonly (number | string)[]): void {
    if (!this.names.has(name)) throw new Error(`graph output '${name}' is not produced by any node`);
    this.outputs.push({ name, elemType, shape });
  }

  weight(spec: WeightSpec): string {
    this.weights.push({ ...spec, name: this.claim(spec.name) });
    return spec.name;
  }

  /** Inline little-endian constant: int64 (bigint-safe), int32, float32 or float16 bytes. */
  constant(name: string, dataType: DataTypeCode, dims: readonly number[], values: ArrayLike<number> | readonly bigint[]): string {
    const numbers = values as ArrayLike<number>;
    let raw: Uint8Array;
    if (dataType === DataType.INT64) {
      const a = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]!);
      raw = new Uint8Array(a.buffer);
    } else if (dataType === DataType.FLOAT) {
      raw = new Uint8Array(Float32Array.from(numbers).buffer);
    } else if (dataType === DataType.INT32) {
      raw = new Uint8Array(Int32Array.from(numbers).buffer);
    } else if (dataType === DataType.FLOAT16) {
      raw = new Uint8Array(float32ToFloat16(Float32Array.from(numbers)).buffer);
    } else {
      throw new Error(`inline constants of data type ${dataType} are not supported`);
    }
    this.constants.push({ name: this.claim(name), dims, dataType, raw });
    return name;
  }

  /** Adds a node; its outputs are `name` (one output) or `name.0`, `name.1`, … */
  node(opType: string, inputs: readonly string[], name: string, opts: NodeOptions = {}): string[] {
    const count = opts.outputs ?? 1;
    const outputs = count === 1 ? [this.claim(name)] : Array.from({ length: count }, (_, i) => this.claim(`${name}.${i}`));
    this.nodes.push({ name, opType, domain: opts.domain, inputs, outputs, attributes: opts.attrs ?? [] });
    return outputs;
  }

  /** Single-output node. */
  op(opType: string, inputs: readonly string[], name: string, attrs: readonly Attribute[] = [], domain?: string): string {
    return this.node(opType, inputs, name, { attrs, domain })[0]!;
  }

  /**
   * A subgraph (an If branch) built by `build` on a child builder that shares this graph's
   * names, so its values never shadow outer ones; it reads outer values (weights included) by
   * name and returns the value it outputs. Weights must be declared on the outer graph.
   */
  branch(name: string, elemType: DataTypeCode, build: (b: GraphBuilder) => string): GraphProto {
    const child = new GraphBuilder(this.names);
    const out = build(child);
    if (child.weights.length) throw new Error(`subgraph ${name}: declare weights on the outer graph`);
    return { name, nodes: child.nodes, initializers: child.constants, inputs: [], outputs: [{ name: out, elemType }] };
  }
}

export interface NodeOptions {
  readonly outputs?: number;
  readonly attrs?: readonly Attribute[];
  readonly domain?: string;
}
