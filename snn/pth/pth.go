// Package pth reads the tensors of a PyTorch checkpoint (a torch.save file)
// from memory, so that it also works in WebAssembly, where there is no file
// system.
//
// The pickle is decoded by gopickle with an allow-list of classes, so loading
// a checkpoint never runs code, and every size read from the file is checked
// against the bytes actually present before anything is allocated.
package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/spikegrad/spikegrad/snn/internal/zipread"
)

// Tensor is a checkpoint tensor converted to float32, row-major (contiguous, honouring the saved stride and storage offset).
type Tensor struct {
	Shape []int
	Data  []float32
}

// StateDict holds a checkpoint's tensors in file order.
type StateDict struct {
	Keys    []string // in the order of the pickled (Ordered)Dict
	Tensors map[string]*Tensor
}

// Load decodes a torch.save file (zip format, torch >= 1.6, or the legacy non-zip format) from memory.
func Load(b []byte) (*StateDict, error) {
	obj, err := decode(b)
	if err != nil {
		return nil, err
	}
	return stateDict(obj)
}

// decode reads the object a torch.save file holds; its tensors are
// *tensorRef, converted later.
func decode(b []byte) (obj any, err error) {
	// gopickle can still panic on malformed pickles pickleLen cannot see
	// (a bytes key in an OrderedDict): report that as an error too.
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("malformed checkpoint: panic: %s", clip(fmt.Sprint(r)))
		}
	}()
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return loadZip(b)
	case len(b) >= 262 && string(b[257:262]) == "ustar":
		return nil, errors.New("legacy tar checkpoints are not supported")
	case len(b) > 0 && b[0] == 0x80: // a pickle of protocol >= 2: the legacy magic number
		return loadLegacy(b)
	}
	return nil, errors.New("not a PyTorch checkpoint: unknown format")
}

// nestedKeys are where training scripts put the state dict in a checkpoint
// that also holds other things (epoch, optimizer state ...), by preference.
var nestedKeys = []string{"state_dict", "model", "net", "model_state_dict"}

// stateDict picks the state dict out of a checkpoint's top-level object and
// converts its tensors; other values are skipped.
func stateDict(obj any) (*StateDict, error) {
	items, ok := dictItems(obj)
	if !ok {
		return nil, errors.New("not a state dict: the checkpoint's top level is not a dict")
	}
	for _, k := range nestedKeys {
		if nested, ok := dictItems(lookup(items, k)); ok {
			items = nested
			break
		}
	}
	sd := &StateDict{Tensors: make(map[string]*Tensor)}
	refs := make(map[string]*tensorRef)
	for _, it := range items {
		name, ok := it.Key.(string)
		t, isTensor := it.Value.(*tensorRef)
		if !ok || !isTensor {
			continue
		}
		name = strings.TrimPrefix(name, "module.") // saved from a DataParallel model
		if refs[name] == nil {
			sd.Keys = append(sd.Keys, name)
		}
		refs[name] = t // a repeated key replaces the value, as in a Python dict
	}
	if len(sd.Keys) == 0 {
		return nil, errors.New("no tensors in the state dict")
	}

	// Views can repeat a storage's elements (shared storages, stride 0), so
	// cap the output at a few times the data present, plus some slack for
	// small expanded tensors, rather than trust the shapes.
	budget := 1 << 20
	counted := make(map[*storage]bool)
	for _, name := range sd.Keys {
		t := refs[name]
		if !counted[t.st] {
			counted[t.st] = true
			budget += 4 * t.st.numel
		}
		tensor, err := t.tensor(&budget)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %s", clip(name), clip(err.Error()))
		}
		sd.Tensors[name] = tensor
	}
	return sd, nil
}

// dictItems returns the entries of a pickled dict or OrderedDict in order.
func dictItems(v any) ([]types.DictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		items := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			items = append(items, types.DictEntry{Key: entry.Key, Value: entry.Value})
		}
		return items, true
	}
	return nil, false
}

// lookup returns the value of key in items, the last one if it is repeated.
func lookup(items []types.DictEntry, key string) any {
	var v any
	for _, it := range items {
		if k, ok := it.Key.(string); ok && k == key {
			v = it.Value
		}
	}
	return v
}

// dtype is a storage element type, named like its torch storage class.
type dtype struct {
	size   int                  // bytes per element
	decode func([]byte) float32 // one little-endian element to float32, as torch's .float()
	name   string               // torch's name of the element type
}

var dtypes = map[string]*dtype{
	"FloatStorage":    {4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }, "float32"},
	"HalfStorage":     {2, func(b []byte) float32 { return halfToFloat32(binary.LittleEndian.Uint16(b)) }, "float16"},
	"BFloat16Storage": {2, func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) }, "bfloat16"},
	"DoubleStorage":   {8, func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }, "float64"},
	"LongStorage":     {8, func(b []byte) float32 { return float32(int64(binary.LittleEndian.Uint64(b))) }, "int64"},
	"IntStorage":      {4, func(b []byte) float32 { return float32(int32(binary.LittleEndian.Uint32(b))) }, "int32"},
	"ShortStorage":    {2, func(b []byte) float32 { return float32(int16(binary.LittleEndian.Uint16(b))) }, "int16"},
	"CharStorage":     {1, func(b []byte) float32 { return float32(int8(b[0])) }, "int8"},
	"ByteStorage":     {1, func(b []byte) float32 { return float32(b[0]) }, "uint8"},
	"BoolStorage": {1, func(b []byte) float32 {
		if b[0] != 0 {
			return 1
		}
		return 0
	}, "bool"},
}

// halfToFloat32 widens an IEEE 754 half exactly. (gopickle's FloatBits16to32
// gets negative zero and negative subnormals wrong.)
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: mant * 2^-24, exact in float32
		return math.Float32frombits(sign | math.Float32bits(float32(mant)*0x1p-24))
	case 0x1f: // infinity or NaN, keeping the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// storage is a torch storage: numel elements of one dtype.
type storage struct {
	dt    *dtype
	key   string
	numel int
	data  []byte                 // the elements; nil until read
	load  func() ([]byte, error) // reads data on first use (zip format), or nil
}

func newStorage(dt *dtype, key string, numel int) (*storage, error) {
	key = clip(key) // only used in messages from now on
	if numel < 0 || numel > math.MaxInt/dt.size {
		return nil, fmt.Errorf("storage %s: bad size %d", key, numel)
	}
	return &storage{dt: dt, key: key, numel: numel}, nil
}

// bytes returns the storage's data, reading it if need be.
func (s *storage) bytes() ([]byte, error) {
	if s.data == nil && s.load != nil {
		b, err := s.load()
		if err != nil {
			return nil, err
		}
		s.data, s.load = b, nil
	}
	if s.data == nil {
		return nil, fmt.Errorf("storage %s has no data", s.key)
	}
	if need := s.numel * s.dt.size; len(s.data) < need {
		return nil, fmt.Errorf("truncated: storage %s needs %d bytes, file has %d", s.key, need, len(s.data))
	}
	return s.data, nil
}

// tensorRef is a tensor as pickled: a strided view of a storage. It is
// converted only if it is in the state dict, once all storages are known.
type tensorRef struct {
	st     *storage
	offset int
	shape  []int
	stride []int
}

// tensor converts t to a contiguous float32 tensor, taking its element count
// from budget.
func (t *tensorRef) tensor(budget *int) (*Tensor, error) {
	n, data, err := t.view(budget)
	if err != nil {
		return nil, err
	}
	out := &Tensor{Shape: append([]int{}, t.shape...)}
	if d := t.aliasFloat32(n, data); d != nil {
		out.Data = d
		return out, nil
	}
	out.Data = make([]float32, n)
	decode := t.st.dt.decode
	t.walk(n, data, func(i int, e []byte) { out.Data[i] = decode(e) })
	return out, nil
}

// littleEndian: float32 storages are little-endian, as this machine's are
// (amd64, arm64, wasm).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// aliasFloat32 returns t's elements as a slice of data itself when no
// conversion is needed: a float32 storage, a row-major view, an aligned
// start. torch.save aligns its zip entries, so a checkpoint's weights are
// not copied (the caller must not change data while they are in use).
// Otherwise nil.
func (t *tensorRef) aliasFloat32(n int, data []byte) []float32 {
	if n == 0 || !littleEndian || t.st.dt.size != 4 || t.st.dt.name != "float32" {
		return nil
	}
	step := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.stride[i] != step {
			return nil
		}
		step *= t.shape[i]
	}
	b := data[t.offset*4 : (t.offset+n)*4]
	if uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

// view checks that t lies in its storage and returns its element count and
// the storage's bytes, taking the count from budget.
func (t *tensorRef) view(budget *int) (int, []byte, error) {
	n := 1
	for i, size := range t.shape {
		if size < 0 || t.stride[i] < 0 {
			return 0, nil, fmt.Errorf("bad shape %v or stride %v", t.shape, t.stride)
		}
		if size > 0 && n > math.MaxInt/size {
			return 0, nil, fmt.Errorf("shape %v too large", t.shape)
		}
		n *= size
	}
	if n == 0 {
		return 0, nil, nil
	}
	// The view's last element must lie in the storage (the first is at offset).
	last := t.offset
	for i, size := range t.shape {
		if last < 0 || t.stride[i] > 0 && size-1 > (math.MaxInt-last)/t.stride[i] {
			last = -1
			break
		}
		last += (size - 1) * t.stride[i]
	}
	if t.offset < 0 || last < 0 || last >= t.st.numel {
		return 0, nil, fmt.Errorf("view (offset %d, shape %v, stride %v) reaches outside its storage of %d elements",
			t.offset, t.shape, t.stride, t.st.numel)
	}
	data, err := t.st.bytes()
	if err != nil {
		return 0, nil, err
	}
	if n > *budget {
		return 0, nil, errors.New("views repeat the stored data too many times")
	}
	*budget -= n
	return n, data, nil
}

// walk calls f with each of t's n elements in row-major order, as its index
// and its bytes in data.
func (t *tensorRef) walk(n int, data []byte, f func(i int, e []byte)) {
	size := t.st.dt.size
	idx := make([]int, len(t.shape))
	pos := t.offset
	for i := range n {
		f(i, data[pos*size:pos*size+size])
		// Step the index, last dimension fastest.
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			pos += t.stride[d]
			if idx[d] < t.shape[d] {
				break
			}
			pos -= t.shape[d] * t.stride[d]
			idx[d] = 0
		}
	}
}

// loadZip reads the zip format: <dir>/data.pkl is the pickle, whose storages
// are the entries <dir>/data/<key>. torch names dir after the file.
func loadZip(b []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// A zip ends with its directory: a file that starts as one and
		// has none was cut short (a download or copy that stopped).
		if errors.Is(err, zip.ErrFormat) && !bytes.Contains(b[max(0, len(b)-(1<<16+22)):], []byte("PK\x05\x06")) {
			return nil, fmt.Errorf("the file is cut off: it starts as a zip (a PyTorch checkpoint) but its end is missing (%d bytes)", len(b))
		}
		return nil, fmt.Errorf("not a PyTorch checkpoint: %v", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	dir := ""
	for _, f := range zr.File {
		files[f.Name] = f
		if d, ok := strings.CutSuffix(f.Name, "/data.pkl"); ok && dir == "" && d != "" && !strings.Contains(d, "/") {
			dir = d
		}
	}
	if dir == "" {
		return nil, errors.New("not a PyTorch checkpoint (no data.pkl in zip)")
	}
	if files[dir+"/constants.pkl"] != nil {
		return nil, errors.New("torchscript archives are not supported (save a state_dict)")
	}
	if f := files[dir+"/byteorder"]; f != nil { // written by torch >= 2.1; absent means little
		order, err := readEntry(f, b)
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, fmt.Errorf("unsupported byte order %q", clip(string(order)))
		}
	}
	pkl, err := readEntry(files[dir+"/data.pkl"], b)
	if err != nil {
		return nil, err
	}

	storages := make(map[string]*storage)
	obj, _, err := unpickle(pkl, func(pid any) (any, error) {
		dt, key, numel, err := storageRef(pid, 5)
		if err != nil {
			return nil, err
		}
		if s := storages[key]; s != nil {
			return s, nil
		}
		f := files[dir+"/data/"+key]
		if f == nil {
			return nil, fmt.Errorf("storage %s is missing", clip(key))
		}
		s, err := newStorage(dt, key, numel)
		if err != nil {
			return nil, err
		}
		if need := uint64(numel * dt.size); need > f.UncompressedSize64 {
			return nil, fmt.Errorf("truncated: storage %s needs %d bytes, file has %d", s.key, need, f.UncompressedSize64)
		}
		s.load = func() ([]byte, error) { return readEntry(f, b) }
		storages[key] = s
		return s, nil
	})
	return obj, err
}

// readEntry reads a whole zip entry, of at most its declared size, which is
// not trusted for allocation (see zipread.Entry); checkpoints have no bound.
func readEntry(f *zip.File, archive []byte) ([]byte, error) {
	return zipread.Entry(f, archive, math.MaxInt64-1)
}

// clip keeps text taken from the file (names, gopickle's messages) to one
// short line.
func clip(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// storageRef reads a persistent id ('storage', storage class, key, location,
// numel) — the legacy format adds a sixth field, view metadata, which must be
// None (only torch < 1.0 wrote storage views).
func storageRef(pid any, fields int) (dt *dtype, key string, numel int, err error) {
	t, ok := pid.(*types.Tuple)
	if ok && t.Len() > 0 && t.Get(0) == "module" {
		return nil, "", 0, errors.New("whole-model checkpoints are not supported (save a state_dict)")
	}
	if !ok || t.Len() != fields || t.Get(0) != "storage" {
		return nil, "", 0, errors.New("bad storage reference")
	}
	dt, ok1 := t.Get(1).(*dtype)
	key, ok2 := t.Get(2).(string)
	_, ok3 := t.Get(3).(string) // any location: the data is read to host memory
	numel, ok4 := t.Get(4).(int)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, "", 0, errors.New("bad storage reference")
	}
	if fields > 5 && t.Get(5) != nil {
		return nil, "", 0, errors.New("legacy storage views are not supported")
	}
	return dt, key, numel, nil
}
