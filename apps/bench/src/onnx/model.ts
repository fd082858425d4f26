import { ProtoWriter } from './protobuf.js';

/**
 * The slice of onnx.proto (IR version 8) needed to write attention graphs in code: ModelProto, GraphProto,
 * NodeProto, AttributeProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto and TensorProto. Field numbers
 * are those of onnx/onnx.proto.
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export type AttributeValue = { float: number } | { int: number } | { string: string } | { ints: number[] } | { floats: number[] } | { tensor: TensorDef };

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** '' (the default ONNX domain) or e.g. 'com.microsoft'. */
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface TensorDef {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian raw bytes of the values (float32 or int32/int64 as dataType says). */
  raw: Uint8Array;
}

export interface ValueInfoDef {
  name: string;
  elemType: DataTypeCode;
  /** A number is a fixed dimension, a string a symbolic one. */
  shape: (number | string)[];
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  inputs: ValueInfoDef[];
  outputs: ValueInfoDef[];
  initializers?: TensorDef[];
}

export interface ModelDef {
  graph: GraphDef;
  /** Operator sets: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }]. */
  opsets: { domain: string; version: number }[];
  irVersion?: number;
  producer?: string;
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorDef {
  const data = Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims, raw: new Uint8Array(data.buffer) };
}

export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorDef {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dataType: DataType.INT64, dims, raw: new Uint8Array(data.buffer) };
}

function writeTensor(w: ProtoWriter, t: TensorDef): void {
  w.ints(1, t.dims); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
}

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue): void {
  w.string(1, name);
  if ('float' in value) {
    w.float(2, value.float);
    w.int(20, AttrType.FLOAT);
  } else if ('int' in value) {
    w.int(3, value.int);
    w.int(20, AttrType.INT);
  } else if ('string' in value) {
    w.string(4, value.string);
    w.int(20, AttrType.STRING);
  } else if ('tensor' in value) {
    w.message(5, (t) => writeTensor(t, value.tensor));
    w.int(20, AttrType.TENSOR);
  } else if ('floats' in value) {
    for (const f of value.floats) w.float(7, f);
    w.int(20, AttrType.FLOATS);
  } else {
    w.ints(8, value.ints);
    w.int(20, AttrType.INTS);
  }
}

function writeNode(w: ProtoWriter, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, (a) => writeAttribute(a, k, v));
  if (n.domain) w.string(7, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoDef): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphDef): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers ?? []) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialises a ModelProto: the bytes `InferenceSession.create(bytes)` accepts. */
export function encodeModel(model: ModelDef): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion ?? 8); // ir_version
  w.string(2, model.producer ?? '@sparse/bench'); // producer_name
  w.message(7, (g) => writeGraph(g, model.graph)); // graph
  for (const o of model.opsets) {
    w.message(8, (m) => {
      if (o.domain) m.string(1, o.domain);
      m.int(2, o.version);
    });
  }
  return w.finish();
}
