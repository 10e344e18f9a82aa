package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// A histogram counts latencies in microseconds in log-linear buckets: exact below 128 µs, and
// 128 buckets per power of two above that, so every recorded value is within 1% of the value
// reported for its bucket. Recording is lock-free and safe for concurrent use; histograms from
// several worker processes merge by adding their buckets.
type histogram struct {
	counts [histBuckets]atomic.Int64
}

const (
	histSub     = 128 // buckets per power of two (and the exact range below it)
	histShifts  = 40  // values up to 2^47 µs (~4.5 years) fit
	histBuckets = histSub + histShifts*histSub
)

func histIndex(us int64) int {
	if us < 0 {
		us = 0
	}
	v := uint64(us)
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 8 // v>>shift is in [128, 255]
	if shift >= histShifts {
		return histBuckets - 1
	}
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// histValue is the lowest value in bucket i, in microseconds.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := (i - histSub) / histSub
	m := int64((i-histSub)%histSub + histSub)
	return m << shift
}

func (h *histogram) record(d time.Duration) {
	h.counts[histIndex(d.Microseconds())].Add(1)
}

func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
}

// sparse returns the non-empty buckets as index → count, the form workers send to the parent.
func (h *histogram) sparse() map[int]int64 {
	m := make(map[int]int64)
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			m[i] = n
		}
	}
	return m
}

func (h *histogram) merge(m map[int]int64) {
	for i, n := range m {
		if i >= 0 && i < histBuckets {
			h.counts[i].Add(n)
		}
	}
}

// quantile returns the value at quantile q (0..1) and the total count. Zero when empty.
func (h *histogram) quantile(q float64) time.Duration {
	var total int64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(histValue(i)) * time.Microsecond
		}
	}
	return 0
}

// max returns the lowest value of the highest non-empty bucket.
func (h *histogram) max() time.Duration {
	for i := histBuckets - 1; i >= 0; i-- {
		if h.counts[i].Load() > 0 {
			return time.Duration(histValue(i)) * time.Microsecond
		}
	}
	return 0
}
