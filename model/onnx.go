package model

import (
	"maps"
	"slices"
	"strconv"

	"github.com/ludvae/ludvae/internal/onnxpb"
	tb "github.com/ludvae/ludvae/torchbind"
	"google.golang.org/protobuf/proto"
)

// The ONNX export: the walks of ladder.go and dncnn.go run on an
// onnxMachine, which adds a graph node for every operation, so the graph
// is generated from the declaration that builds the Go forward, the
// state-dict names and the TorchScript.

// ONNXOpset is the ONNX operator set the exported files use, and
// ONNXIRVersion their IR version: opset 13 (ONNX 1.8, IR 7) holds every
// operator the networks need (Conv, BatchNormalization, RandomNormalLike,
// RandomUniformLike, Clip with tensor bounds, Slice with steps, Round),
// onnxruntime runs it from version 1.6 on (chaiNNer's included), and
// Debian 12's onnx 1.12 checks it fully (it knows opsets up to 17, IR 8).
const (
	ONNXOpset     = 13
	ONNXIRVersion = 7
)

// onnxMachine builds an ONNX graph: each value is a tensor name. The
// parameters become initializers named by their state-dict keys; the
// temperature of sample is a constant of the graph.
type onnxMachine struct {
	g           *onnxpb.GraphProto
	n           int
	seen        map[string]bool
	temperature string // name of the scalar temperature constant
}

func newONNXMachine(name string) *onnxMachine {
	return &onnxMachine{g: &onnxpb.GraphProto{Name: proto.String(name)}, seen: map[string]bool{}}
}

// node adds an operator with inputs and attributes and returns its (first)
// output's name.
func (o *onnxMachine) node(op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	o.n++
	out := op + "_" + strconv.Itoa(o.n)
	o.g.Node = append(o.g.Node, &onnxpb.NodeProto{
		OpType: proto.String(op), Name: proto.String(out), Input: inputs, Output: []string{out}, Attribute: attrs,
	})
	return out
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(float32(v))}
}

// constant adds a float32 initializer of the given shape and returns its name.
func (o *onnxMachine) constant(name string, values []float32, shape ...int64) string {
	if !o.seen[name] {
		o.seen[name] = true
		o.g.Initializer = append(o.g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: shape, FloatData: values,
		})
	}
	return name
}

// int64s adds an int64 initializer (shapes, slice bounds).
func (o *onnxMachine) int64s(name string, values ...int64) string {
	if !o.seen[name] {
		o.seen[name] = true
		o.g.Initializer = append(o.g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(values))}, Int64Data: values,
		})
	}
	return name
}

// scalar is a float32 constant of shape [] named after its value.
func (o *onnxMachine) scalar(v float64) string {
	return o.constant("const_"+strconv.FormatFloat(v, 'g', -1, 32), []float32{float32(v)})
}

// weight adds a parameter or buffer under its state-dict key, in float32.
func (o *onnxMachine) weight(key string, t *tb.Tensor) string {
	if !o.seen[key] {
		var v []float32
		tb.WithScope(func(*tb.Scope) {
			tb.NoGrad(func() { v = t.To(tb.Float32, tb.CPU).Contiguous().Float32s() })
		})
		return o.constant(key, v, t.Shape()...)
	}
	return key
}

func (o *onnxMachine) conv(c *Conv2d, x string) string {
	k := c.Weight.Size(2)
	return o.node("Conv", []string{x, o.weight(c.name+".weight", c.Weight), o.weight(c.name+".bias", c.Bias)},
		intsAttr("kernel_shape", k, k), intsAttr("pads", c.pad, c.pad, c.pad, c.pad), intsAttr("strides", 1, 1))
}

func (o *onnxMachine) convPair(first, second *Conv2d, x string) string {
	return o.conv(second, o.conv(first, x))
}

func (o *onnxMachine) relu(x string) string { return o.node("Relu", []string{x}) }

func (o *onnxMachine) cat(a, b string) string {
	return o.node("Concat", []string{a, b}, intAttr("axis", 1))
}

func (o *onnxMachine) add(a, b string) string { return o.node("Add", []string{a, b}) }

func (o *onnxMachine) sub(a, b string) string { return o.node("Sub", []string{a, b}) }

func (o *onnxMachine) mul(a, b string) string { return o.node("Mul", []string{a, b}) }

// batchNorm is evaluation mode's: the running statistics.
func (o *onnxMachine) batchNorm(b *BatchNorm2d, x string) string {
	return o.node("BatchNormalization", []string{x,
		o.weight(b.name+".weight", b.Weight), o.weight(b.name+".bias", b.Bias),
		o.weight(b.name+".running_mean", b.RunningMean), o.weight(b.name+".running_var", b.RunningVar)},
		floatAttr("epsilon", kairBNEps), floatAttr("momentum", kairBNMomentum))
}

// normalLike is ONNX's RandomNormalLike without a seed: onnxruntime draws
// fresh values on every run.
func (o *onnxMachine) normalLike(_ Site, x string) string {
	return o.node("RandomNormalLike", []string{x}, intAttr("dtype", int64(onnxpb.TensorProto_FLOAT)),
		floatAttr("mean", 0), floatAttr("scale", 1))
}

func (o *onnxMachine) sample(site Site, g *gaussian[string], like string) string {
	if g == nil {
		return o.mul(o.normalLike(site, like), o.temperature)
	}
	z := o.add(g.mean, o.mul(o.node("Exp", []string{g.logSigma}), o.normalLike(site, g.mean)))
	return o.mul(z, o.temperature)
}

func (o *onnxMachine) release(...string) {}

// imageValue is an NCHW float32 image input or output with the given
// channels and free batch, height and width.
func imageValue(name string, channels int) *onnxpb.ValueInfoProto {
	dim := func(p string) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
	}
	c := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(channels)}}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim("N"), c, dim("H"), dim("W")}}},
	}}}
}

// model wraps the graph with input in and output out (renamed from the
// last node's) as a model of ONNXOpset, with a description and key-value
// metadata.
func (o *onnxMachine) model(in, out string, channels int, doc string, meta map[string]string) ([]byte, error) {
	last := o.g.Node[len(o.g.Node)-1]
	last.Output[0] = out
	o.g.Input = []*onnxpb.ValueInfoProto{imageValue(in, channels)}
	o.g.Output = []*onnxpb.ValueInfoProto{imageValue(out, channels)}
	m := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(ONNXIRVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(ONNXOpset)}},
		ProducerName:    proto.String("ludvae"),
		ProducerVersion: proto.String("1"),
		DocString:       proto.String(doc),
		Graph:           o.g,
	}
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(meta[k])})
	}
	return proto.Marshal(m)
}
