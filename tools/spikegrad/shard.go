package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// shard is one of Count disjoint parts of the chosen images (Index from 0).
type shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// parseShard reads -shard i/n: the i-th (from 0) of n parts.
func parseShard(v string) (shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return shard{}, fmt.Errorf("-shard %q: want i/n, e.g. 0/4 (the first of 4 parts; i counts from 0)", v)
	}
	if n < 1 || i < 0 || i >= n {
		return shard{}, fmt.Errorf("-shard %q: want 0 <= i < n (i counts from 0: 0/4 .. 3/4)", v)
	}
	return shard{i, n}, nil
}

// slurmShard takes the shard from a Slurm array task's environment:
// the task's place in the array, (SLURM_ARRAY_TASK_ID -
// SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT,
// so that --array=0-3, --array=1-4 and --array=0-6:2 all give shards 0..3
// of 4. An array that is not evenly spaced (--array=1,2,7) is refused:
// its ids say nothing of a task's place.
func slurmShard(getenv func(string) string) (s shard, why string, ok bool, err error) {
	id, count := getenv("SLURM_ARRAY_TASK_ID"), getenv("SLURM_ARRAY_TASK_COUNT")
	if id == "" || count == "" {
		return shard{}, "", false, nil
	}
	num := func(name, def string) (int, error) {
		v := getenv(name)
		if v == "" {
			v = def
		}
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a number", name, v)
		}
		return k, nil
	}
	vals := map[string]int{}
	for _, name := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP"} {
		def := map[string]string{"SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "1"}[name]
		k, err := num(name, def)
		if err != nil {
			return shard{}, "", false, fmt.Errorf("Slurm array: %v; give -shard i/n", err)
		}
		vals[name] = k
	}
	tid, n, lo, step := vals["SLURM_ARRAY_TASK_ID"], vals["SLURM_ARRAY_TASK_COUNT"], vals["SLURM_ARRAY_TASK_MIN"], vals["SLURM_ARRAY_TASK_STEP"]
	why = fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d, _MIN=%d, _STEP=%d, _COUNT=%d", tid, lo, step, n)
	if step < 1 || n < 1 || tid < lo || (tid-lo)%step != 0 || (tid-lo)/step >= n {
		return shard{}, "", false, fmt.Errorf("Slurm array (%s): the shard needs evenly spaced ids such as --array=0-3 or 1-7:2; give -shard i/n", why)
	}
	if mx := getenv("SLURM_ARRAY_TASK_MAX"); mx != "" {
		if k, err := strconv.Atoi(mx); err == nil && k != lo+(n-1)*step {
			return shard{}, "", false, fmt.Errorf("Slurm array (%s, _MAX=%d): the shard needs evenly spaced ids such as --array=0-3 or 1-7:2; give -shard i/n", why, k)
		}
	}
	return shard{(tid - lo) / step, n}, why, true, nil
}

// bounds gives shard s's part of total images: the consecutive block
// [total*i/n, total*(i+1)/n) of the chosen images in their order, so the
// parts, in shard order, are the chosen images in order, and the split
// depends on nothing but the chosen images and n.
func (s shard) bounds(total int) (lo, hi int) {
	return total * s.Index / s.Count, total * (s.Index + 1) / s.Count
}

// formatIndices writes image indices as -indices reads them, runs of
// consecutive ones as ranges: "0-2499" or "3,7,10-12".
func formatIndices(idx []int) string {
	var b strings.Builder
	for k := 0; k < len(idx); {
		j := k
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[k]))
		if j > k {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		k = j + 1
	}
	return b.String()
}

// indicesHash fingerprints a list of image indices in order.
func indicesHash(idx []int) string {
	h := sha256.New()
	for _, i := range idx {
		fmt.Fprintf(h, "%d,", i)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// runInfo is what the CLI's -json adds to the engine's result: which
// checkpoint, data, images and normalisation made it, and for a shard its
// place, all that `spikegrad merge` checks before joining parts.
type runInfo struct {
	Checkpoint string `json:"checkpoint"`
	// CheckpointSHA256 is the checkpoint file's sha256 (a shard's, a merge's):
	// parts join only when made from the same bytes.
	CheckpointSHA256 string `json:"checkpoint_sha256,omitempty"`
	Data             string `json:"data"`
	Member           string `json:"member,omitempty"`
	DataImages       int    `json:"data_images"` // images in the data file(s)
	Norm             string `json:"norm"`
	// Quantiser is ANN mode's activation (-quantiser): if or myfloor.
	Quantiser string `json:"quantiser"`
	// Chosen counts the images -n/-offset/-random/-indices chose, before
	// the split into shards, and ChosenSHA256 fingerprints their list.
	Chosen       int    `json:"chosen"`
	ChosenSHA256 string `json:"chosen_sha256,omitempty"`
	Shard        *shard `json:"shard,omitempty"`
	Shards       int    `json:"shards,omitempty"` // a merge: how many parts it joined
	// Indices are the images run (a shard's, a merge's), as -indices takes them.
	Indices string `json:"indices,omitempty"`
}

// pickShard narrows the chosen images idx to the shard -shard names or,
// without it, the Slurm array task's (when run as one); nil: no shard.
func pickShard(flagVal string, getenv func(string) string, idx []int, stderr io.Writer) ([]int, *shard, error) {
	var s shard
	switch {
	case flagVal != "":
		var err error
		if s, err = parseShard(flagVal); err != nil {
			return nil, nil, err
		}
	default:
		sl, why, ok, err := slurmShard(getenv)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return idx, nil, nil
		}
		s = sl
		fmt.Fprintf(stderr, "spikegrad: shard %s from the Slurm array (%s)\n", s, why)
	}
	lo, hi := s.bounds(len(idx))
	if lo == hi {
		return nil, nil, fmt.Errorf("shard %s: %d images split %d ways leave this shard none; use at most %d shards", s, len(idx), s.Count, len(idx))
	}
	return idx[lo:hi], &s, nil
}

// fileSHA256 is the hex sha256 of b.
func fileSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// quantiserName is -quantiser's value as parts compare it ("" is if).
func quantiserName(q string) string {
	if q == "" {
		return "if"
	}
	return q
}
