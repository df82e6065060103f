package snn

// SameWeights says whether two networks' first layers share one set of weights.
func SameWeights(a, b *Net) bool { return a.Layers[0].w == b.Layers[0].w }
