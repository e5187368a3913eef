package server

import (
	"strconv"
	"time"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/rangefetch"
	"github.com/edgenome/edgenome/host/internal/runtime"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queued   *prometheus.HistogramVec
	bytesOut *prometheus.CounterVec
	fetched  *prometheus.CounterVec
	aborted  *prometheus.CounterVec
	memory   *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, fetch *rangefetch.Fetcher, inst *runtime.Stats) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgenome_requests_total", Help: "Plugin calls by plugin, export, HTTP status and error code.",
		}, []string{"plugin", "export", "status", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgenome_request_duration_seconds", Help: "Plugin call duration, queueing included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"plugin", "export"}),
		queued: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgenome_queue_wait_seconds", Help: "Time calls waited for a free slot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"plugin"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgenome_response_bytes_total", Help: "Response body bytes sent by plugins.",
		}, []string{"plugin"}),
		fetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgenome_plugin_fetch_bytes_total", Help: "Bytes plugins caused to be fetched from origins.",
		}, []string{"plugin"}),
		aborted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgenome_aborted_streams_total", Help: "Responses cut off because the plugin failed after output began.",
		}, []string{"plugin"}),
	}
	m.memory = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edgenome_plugin_memory_bytes", Help: "Wasm memory of the instance that served the plugin's last call (its high-water mark).",
	}, []string{"plugin"})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{m.memory, m.requests, m.duration, m.queued, m.bytesOut, m.fetched, m.aborted,
		counter("edgenome_cache_hits_total", "Block cache hits.", func() float64 { return float64(fetch.Stats().Hits) }),
		counter("edgenome_cache_misses_total", "Block cache misses.", func() float64 { return float64(fetch.Stats().Misses) }),
		counter("edgenome_origin_requests_total", "Requests made to origins.", func() float64 { return float64(fetch.Stats().OriginRequests) }),
		counter("edgenome_origin_readaheads_total", "Background fetches started ahead of sequential readers.", func() float64 { return float64(fetch.Stats().ReadAheads) }),
		counter("edgenome_origin_bytes_total", "Bytes fetched from origins.", func() float64 { return float64(fetch.Stats().BytesFetched) }),
		gauge("edgenome_cache_bytes", "Bytes held in the block cache.", func() float64 { return float64(fetch.Stats().CachedBytes) }),
		gauge("edgenome_instances_live", "Plugin instances in existence.", func() float64 { return float64(inst.Live.Load()) }),
		gauge("edgenome_instances_pooled", "Plugin instances prepared and idle.", func() float64 { return float64(inst.Pooled.Load()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(plugin, export string, status int, code abi.Code, took, queued time.Duration, out, fetched int64) {
	m.requests.WithLabelValues(plugin, export, strconv.Itoa(status), string(code)).Inc()
	m.duration.WithLabelValues(plugin, export).Observe(took.Seconds())
	m.queued.WithLabelValues(plugin).Observe(queued.Seconds())
	m.bytesOut.WithLabelValues(plugin).Add(float64(out))
	m.fetched.WithLabelValues(plugin).Add(float64(fetched))
}
