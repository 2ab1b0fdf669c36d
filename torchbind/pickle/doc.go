// Package pickle reads and writes PyTorch's zip-pickle checkpoint format, the
// format torch.save has written by default since PyTorch 1.6 and torch.load
// reads.
//
// The package is pure Go and never touches libtorch: tensors are kept as raw
// little-endian bytes plus their view metadata (see [Tensor] and [Storage]).
// A checkpoint is a zip archive (entries stored, not compressed) with one top
// folder holding:
//
//	<name>/data.pkl    the object graph, a pickle (protocol 2 when written here)
//	<name>/data/<key>  one raw record per tensor storage
//	<name>/byteorder   "little" (written by newer torch; honoured on read)
//	<name>/version     "3\n"
//
// Decoded object graphs use these Go types: nil (None), bool, int64, float64,
// string, []byte (bytes and bytearray), *[Tensor], *[Storage] (a storage
// saved on its own, e.g. torch.save(t.storage())), *[Dict] (dict and
// collections.OrderedDict), []any (list, set, frozenset) and [Tuple]
// (tuple, torch.Size). A torch.device decodes to its string, e.g. "cuda:0".
// Globals the package does not understand are reported as errors naming
// them (module.name); the unpickler never runs code.
package pickle
