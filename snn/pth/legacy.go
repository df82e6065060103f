package pth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// loadLegacy reads the format torch.save wrote before the zip one (and still
// writes with _use_new_zipfile_serialization=False): pickles of the magic
// number, the protocol version, sys_info, the object and the list of storage
// keys, then for each key an int64 element count and the raw elements.
func loadLegacy(b []byte) (any, error) {
	off := 0
	next := func(persistentLoad func(any) (any, error)) (any, error) {
		v, n, err := unpickle(b[off:], persistentLoad)
		off += n
		return v, err
	}
	magic, err := next(nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != "1950a86a20f9469cfc6c" {
		return nil, errors.New("not a PyTorch checkpoint: unknown format")
	}
	version, err := next(nil)
	if err != nil {
		return nil, err
	}
	if v, ok := version.(int); !ok || v != 1001 {
		return nil, errors.New("unsupported legacy checkpoint protocol version")
	}
	if _, err := next(nil); err != nil { // sys_info: the data is always little-endian
		return nil, err
	}

	storages := make(map[string]*storage)
	obj, err := next(func(pid any) (any, error) {
		dt, key, numel, err := storageRef(pid, 6)
		if err != nil {
			return nil, err
		}
		if s := storages[key]; s != nil {
			return s, nil
		}
		s, err := newStorage(dt, key, numel)
		if err != nil {
			return nil, err
		}
		storages[key] = s
		return s, nil
	})
	if err != nil {
		return nil, err
	}

	keys, err := next(nil)
	if err != nil {
		return nil, err
	}
	list, ok := keys.(*types.List)
	if !ok {
		return nil, errors.New("bad storage key list")
	}
	for _, k := range *list {
		key, _ := k.(string)
		s := storages[key]
		if s == nil {
			return nil, fmt.Errorf("unknown storage %s", clip(key))
		}
		if len(b)-off < 8 {
			return nil, fmt.Errorf("truncated: storage %s has no size", s.key)
		}
		if n := int64(binary.LittleEndian.Uint64(b[off:])); n != int64(s.numel) {
			return nil, fmt.Errorf("storage %s has %d elements, the pickle says %d", s.key, n, s.numel)
		}
		off += 8
		need := s.numel * s.dt.size
		if need > len(b)-off {
			return nil, fmt.Errorf("truncated: storage %s needs %d bytes, file has %d", s.key, need, len(b)-off)
		}
		s.data = b[off : off+need : off+need]
		off += need
	}
	return obj, nil
}
