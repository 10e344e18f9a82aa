package chat_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
)

func TestRateLimiterAllowsBurstThenRefillsAtRate(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(5, time.Second, 10, clock.Now) // 5/s, burst 10

	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("u")
	if ok {
		t.Fatal("11th event in the same instant allowed")
	}
	if wait != 200*time.Millisecond {
		t.Errorf("retryAfter = %v, want 200ms", wait)
	}

	clock.Advance(199 * time.Millisecond)
	if ok, _ := l.Allow("u"); ok {
		t.Error("allowed before a token refilled")
	}
	clock.Advance(time.Millisecond)
	if ok, _ := l.Allow("u"); !ok {
		t.Error("refused after 200ms refilled one token")
	}

	// Sustained: exactly 5 per second get through.
	allowed := 0
	for i := 0; i < 100; i++ {
		clock.Advance(10 * time.Millisecond)
		if ok, _ := l.Allow("u"); ok {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("allowed %d events in one second at full load, want 5", allowed)
	}
}

func TestRateLimiterKeysAreIndependent(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(1, time.Minute, 1, clock.Now)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a refused")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a allowed twice")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("b refused because of a")
	}
}

func TestRateLimiterLimitedPeeksWithoutCharging(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(5, time.Minute, 5, clock.Now)
	for i := 0; i < 5; i++ {
		if limited, _ := l.Limited("ip"); limited {
			t.Fatalf("limited after %d failures", i)
		}
		l.Allow("ip")
	}
	limited, wait := l.Limited("ip")
	if !limited || wait != 12*time.Second {
		t.Errorf("Limited = %v, %v; want true, 12s", limited, wait)
	}
	if limited, _ := l.Limited("ip"); !limited {
		t.Error("peeking refilled the bucket")
	}
	clock.Advance(12 * time.Second)
	if limited, _ := l.Limited("ip"); limited {
		t.Error("still limited after a token refilled")
	}
	l.Reset("ip")
	if l.Len() != 0 {
		t.Errorf("Len after Reset = %d", l.Len())
	}
}

func TestRateLimiterClockGoingBackwardsGrantsNothing(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(1, time.Second, 1, clock.Now)
	l.Allow("k")
	clock.Advance(-time.Hour)
	if ok, _ := l.Allow("k"); ok {
		t.Error("a backwards clock refilled the bucket")
	}
}

func TestRateLimiterForgetsIdleKeys(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(5, time.Second, 10, clock.Now)
	for i := 0; i < 2000; i++ {
		l.Allow(fmt.Sprint("user", i))
	}
	clock.Advance(time.Minute)
	for i := 0; i < 2000; i++ {
		l.Allow("busy")
	}
	if n := l.Len(); n > 1100 {
		t.Errorf("%d buckets remembered after every idle one refilled; want them swept", n)
	}
}

func TestRateLimiterConcurrentUseNeverOverAllows(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(5, time.Second, 10, clock.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if ok, _ := l.Allow("shared"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Errorf("allowed %d, want exactly the burst of 10", allowed)
	}
}

func TestRateLimiterRefundGivesBackOneTokenUpToBurst(t *testing.T) {
	clock := newFakeClock()
	l := chat.NewRateLimiter(1, time.Minute, 2, clock.Now)
	l.Allow("u")
	l.Allow("u")
	if ok, _ := l.Allow("u"); ok {
		t.Fatal("third event allowed")
	}
	l.Refund("u")
	if ok, _ := l.Allow("u"); !ok {
		t.Fatal("refunded token not available")
	}
	l.Refund("u")
	l.Refund("u")
	l.Refund("u") // beyond burst: ignored
	for i := 0; i < 2; i++ {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("event %d refused after refunds", i+1)
		}
	}
	if ok, _ := l.Allow("u"); ok {
		t.Error("refunds filled the bucket beyond its burst")
	}
	l.Refund("never-used") // no bucket: nothing to do
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
}
