package chat

import (
	"sync"
	"time"
)

// RateLimiter is a set of token buckets, one per key (a user, an IP
// address…). Each bucket holds up to burst tokens and refills at a steady
// rate; an event is allowed when a token is available. Buckets that have
// refilled completely are forgotten, so memory stays proportional to the
// keys active recently. A RateLimiter is safe for concurrent use.
type RateLimiter struct {
	interval time.Duration // time to refill one token
	burst    float64
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	ops     int // calls since the last sweep
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// sweepEvery is how many calls pass between sweeps of full buckets.
const sweepEvery = 1024

// NewRateLimiter returns a limiter allowing events per period on average per
// key, with bursts of up to burst events. now is the clock (time.Now if nil);
// tests pass a fake one. It panics if events, per or burst is not positive.
func NewRateLimiter(events int, per time.Duration, burst int, now func() time.Time) *RateLimiter {
	if events <= 0 || per <= 0 || burst <= 0 {
		panic("chat: NewRateLimiter needs positive events, per and burst")
	}
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{
		interval: per / time.Duration(events),
		burst:    float64(burst),
		now:      now,
		buckets:  make(map[string]*bucket),
	}
}

// Allow takes a token from key's bucket if one is available. When none is,
// it returns false and how long until one will be.
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, l.wait(b)
	}
	b.tokens--
	return true, 0
}

// Limited reports, without taking a token, whether key's bucket is empty,
// and if so how long until a token is available. Login checks use it before
// an attempt and charge the bucket with Allow only when the attempt fails.
func (l *RateLimiter) Limited(key string) (limited bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return false, 0
	}
	l.refill(b, l.now())
	if b.tokens < 1 {
		return true, l.wait(b)
	}
	return false, 0
}

// Refund gives back a token taken by Allow, for an event that in the end
// did not count (a login attempt charged up front that succeeded). The
// bucket never holds more than burst tokens.
func (l *RateLimiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		l.refill(b, l.now())
		b.tokens = min(l.burst, b.tokens+1)
	}
}

// Reset forgets key's bucket, as if it had never been used.
func (l *RateLimiter) Reset(key string) {
	l.mu.Lock()
	delete(l.buckets, key)
	l.mu.Unlock()
}

// Len returns the number of buckets currently remembered.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *RateLimiter) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.at)
	if elapsed <= 0 { // the clock went backwards or did not move
		return
	}
	b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
	b.at = now
}

func (l *RateLimiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) * float64(l.interval))
}

// maybeSweep drops full buckets every sweepEvery calls; a full bucket is the
// same as a missing one.
func (l *RateLimiter) maybeSweep(now time.Time) {
	l.ops++
	if l.ops < sweepEvery {
		return
	}
	l.ops = 0
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}
