package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/chart"
)

// echartsPaths are where the ECharts bundle pinned in package-lock.json lands
// (`npm ci`, `make site`), relative to the working directory and to the binary.
var echartsPaths = []string{"site/echarts.min.js", "node_modules/echarts/dist/echarts.min.js"}

// reportECharts is the ECharts bundle an -html report inlines, or nil
// when no report is asked for.
func reportECharts(htmlOut, flagPath string) ([]byte, error) {
	if htmlOut == "" {
		return nil, nil
	}
	return findECharts(flagPath)
}

// findECharts returns the ECharts bundle to inline, so that the report opens
// offline: from -echarts, or from the npm install next to the working
// directory or the executable.
func findECharts(flagPath string) ([]byte, error) {
	if flagPath != "" {
		b, err := os.ReadFile(flagPath)
		if err != nil {
			return nil, fileError(flagPath, err)
		}
		return b, nil
	}
	dirs := []string{"."}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe), filepath.Join(filepath.Dir(exe), ".."))
	}
	for _, d := range dirs {
		for _, p := range echartsPaths {
			if b, err := os.ReadFile(filepath.Join(d, p)); err == nil {
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("-html needs the ECharts bundle: run `make site` (npm ci) in the spikegrad folder, or give -echarts FILE")
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>spikegrad: {{.Ckpt}}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}.c{height:380px}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child{text-align:left}</style>
<script>{{.ECharts}}</script></head><body>
<h1>spikegrad</h1>
<p>{{.Ckpt}} · {{.Data}} · n={{.R.N}} · T={{.R.T}} · L={{.R.L}} · gamma={{.R.Gamma}} · loss {{printf "%.6f" .R.Loss}} · accuracy {{printf "%.4f" .R.Accuracy}}</p>
<p>{{.Note}}</p>
{{range .Keys}}<div class="c" id="{{.}}"></div>{{end}}
<table><tr><th>IF</th><th>thresh</th><th>dL/dthresh</th><th>crossing</th><th>amplitude</th><th>reset</th><th>init</th><th>firing rate</th></tr>
{{range .R.Layers}}<tr><td>{{.Name}}</td><td>{{printf "%.6g" (index .Thresh 0)}}</td><td>{{printf "%.6g" (index .Grad 0)}}</td>{{if .GradPaths}}<td>{{printf "%.6g" (index .GradPaths.Crossing 0)}}</td><td>{{printf "%.6g" (index .GradPaths.Amplitude 0)}}</td><td>{{printf "%.6g" (index .GradPaths.Reset 0)}}</td><td>{{printf "%.6g" (index .GradPaths.Init 0)}}</td>{{else}}<td></td><td></td><td></td><td></td>{{end}}<td>{{printf "%.4f" .FiringRate}}</td></tr>
{{end}}</table>
<script>// What JSON cannot hold (snn/chart.Extra): the symlog axis's labels in the
// gradients' own units, the tooltip of a whole layer, a row a layer's height.
const unlog = (y, c) => { const a = Math.abs(y); const v = a <= 1 ? a * c : c * Math.pow(10, a - 1); return y < 0 ? -v : v; };
const label = (v) => (v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(0) : String(Number(v.toPrecision(2))));
const opts = {{.Options}};
for (const k in opts) {
  const o = opts[k], x = o.spikegrad || {}, el = document.getElementById(k);
  delete o.spikegrad;
  if (x.height) el.style.height = x.height + 'px';
  if (x.symlog) {
    const axis = (x.horizontal ? o.xAxis : o.yAxis)[0];
    axis.axisLabel = Object.assign({}, axis.axisLabel, { formatter: (v) => label(unlog(v, x.symlog)) });
  }
  if (x.tips) o.tooltip.formatter = (ps) => x.tips[(Array.isArray(ps) ? ps[0] : ps).dataIndex];
  echarts.init(el).setOption(o);
}</script>
</body></html>
`))

var notes = map[string]string{
	"en": "The published QCFS code reads thresh.data in SNN mode, so there the threshold gets no gradient; these are the numbers of a live threshold. Per-channel thresholds show their first entry in the table.",
	"zh": "公开的 QCFS 代码在 SNN 模式下读取 thresh.data，阈值在那里得不到梯度；这里是阈值参与求导时的数值。逐通道阈值在表中只显示第一个值。",
}

// writeReport writes a standalone HTML page with the run's charts and numbers.
func writeReport(w io.Writer, r *snn.Result, ckpt, data, lang string, echarts []byte) error {
	o, err := chart.Options(r, lang)
	if err != nil {
		return err
	}
	var keys []string
	for _, k := range []string{"thresh", "grad", "paths", "rate", "curve"} {
		if o[k] != nil {
			keys = append(keys, k)
		}
	}
	opts, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return reportTmpl.Execute(w, map[string]any{
		"Lang": lang, "Ckpt": ckpt, "Data": data, "R": r, "Keys": keys, "Note": notes[lang],
		"ECharts": template.JS(echarts), "Options": template.JS(opts),
	})
}
