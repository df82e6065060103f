package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spikegrad/spikegrad/snn"
)

// fdWords are the -fd table's labels.
type fdWords struct {
	title, note, layer, thresh, h, plus, minus, slope, grad, same string
	agree                                                         map[string]string
}

var fdLabels = map[string]fdWords{
	"en": {"surrogate gradient vs finite difference: same sign?",
		"each layer's thresholds all moved by ±h, h = %g x the layer's mean threshold; slope = (loss(+h) - loss(-h)) / 2h (forward passes only)",
		"IF layer", "threshold", "h", "loss(+h)", "loss(-h)", "slope", "surrogate grad", "same sign?",
		map[string]string{"yes": "yes", "no": "NO", "flat": "flat (loss did not move)"}},
	"zh": {"替代梯度与有限差分：符号相同吗？",
		"每层的阈值整体移动 ±h，h = %g × 该层阈值均值；斜率 = (损失(+h) - 损失(-h)) / 2h（仅前向计算）",
		"IF层", "阈值", "h", "损失(+h)", "损失(-h)", "斜率", "替代梯度", "符号相同？",
		map[string]string{"yes": "是", "no": "否", "flat": "持平（损失未变）"}},
}

// printFD prints the -fd table.
func printFD(w io.Writer, fd []snn.FD, r *snn.Result, rel float64, l fdWords) {
	rule := strings.Repeat("=", 80)
	fmt.Fprintf(w, "%s\n%s\n"+l.note+"\n%s\n", rule, l.title, rel, rule)
	fmt.Fprintf(w, "%-14s %10s %10s %10s %10s %11s %14s  %s\n", l.layer, l.thresh, l.h, l.plus, l.minus, l.slope, l.grad, l.same)
	for j, f := range fd {
		var th float64
		for _, v := range r.Layers[j].Thresh {
			th += v / float64(len(r.Layers[j].Thresh))
		}
		fmt.Fprintf(w, "%-14s %10.5f %10.3g %10.6f %10.6f %+11.4g %+14.4g  %s\n", f.Name, th, f.H, f.LossPlus, f.LossMinus, f.Slope, f.Grad, l.agree[f.Agree])
	}
	fmt.Fprintln(w, rule)
}
