module github.com/spikegrad/spikegrad

go 1.26.8

require (
	github.com/go-echarts/go-echarts/v2 v2.6.7 // indirect
	github.com/nlpodyssey/gopickle v0.2.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
