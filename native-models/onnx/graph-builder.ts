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
   * A chunk is the consumer's until it asks for the next one, which may reuse its memory (an fp32
   * import's chunks are views of the WebAssembly memory: import/import-graphs.ts); the weights
   * writers (model-writer.ts, weight-worker.ts) write and hash each chunk before then.
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
  private readonly names: Set<string>;
  /** The outermost graph: it holds every constant and weight, which nested graphs read by name. */
  private readonly root: GraphBuilder;

  constructor(parent?: GraphBuilder) {
    this.root = parent?.root ?? this;
    this.names = parent ? this.root.names : new Set<string>();
  }

  /**
   * A graph nested in a node's attribute (an If branch, a Loop body). It reads values of the
   * graphs around it by name; names stay unique across all of them (ONNX forbids shadowing).
   * Its small constants are its own initializers (each value a subgraph reads from outside is
   * one more input onnxruntime binds every time it runs it); weights go to the outermost graph.
   */
  subgraph(): GraphBuilder {
    return new GraphBuilder(this);
  }

  /** This nested graph as an attribute value. */
  toGraph(name: string): GraphProto {
    if (this.root === this) throw new Error('only a subgraph is turned into an attribute; the model writer writes the outermost graph');
    return { name, nodes: this.nodes, initializers: this.constants, inputs: this.inputs, outputs: this.outputs };
  }

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
    if (this.root !== this) return this.root.weight(spec);
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
   * An If branch: a subgraph built by `build`, whose one output is the value `build` returns. It
   * reads the graphs around it by name, like every subgraph (`subgraph`).
   */
  branch(name: string, elemType: DataTypeCode, build: (b: GraphBuilder) => string): GraphProto {
    const child = this.subgraph();
    child.outputs.push({ name: build(child), elemType });
    return child.toGraph(name);
  }
}

export interface NodeOptions {
  readonly outputs?: number;
  readonly attrs?: readonly Attribute[];
  readonly domain?: string;
}
