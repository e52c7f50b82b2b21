// Package ratelimit implements a token-bucket limiter for the smoke tests.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrLimited is returned when no token is available.
var ErrLimited = errors.New("rate limited")

const (
	defaultRate  = 5.0
	defaultBurst = 10
)

type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Bucket is a simple thread-safe token bucket.
type Bucket struct {
	mu     sync.Mutex
	tokens float64
	rate   float64
	burst  int
	last   time.Time
	clock  Clock
}

func NewBucket(rate float64, burst int) *Bucket {
	if rate <= 0 {
		rate = defaultRate
	}
	c := realClock{}
	return &Bucket{tokens: float64(burst), rate: rate, burst: burst, last: c.Now(), clock: c}
}

func (b *Bucket) refill() {
	now := b.clock.Now()
	elapsed := now.Sub(b.last).Seconds()
	b.tokens = min(float64(b.burst), b.tokens+elapsed*b.rate)
	b.last = now
}

// Take consumes n tokens or returns ErrLimited.
func (b *Bucket) Take(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens < float64(n) {
		return fmt.Errorf("take %d: %w", n, ErrLimited)
	}
	b.tokens -= float64(n)
	return nil
}

func worker(ctx context.Context, id int, b *Bucket, results chan<- string, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		default:
		}
		switch err := b.Take(1); {
		case err == nil:
			results <- fmt.Sprintf("worker %d: job %d ok", id, i)
		case errors.Is(err, ErrLimited):
			time.Sleep(50 * time.Millisecond)
		default:
			panic(err)
		}
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	bucket := NewBucket(defaultRate, defaultBurst)
	results := make(chan string, 64)
	var wg sync.WaitGroup
	for id := range 3 {
		wg.Add(1)
		go worker(ctx, id, bucket, results, &wg)
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	counts := map[string]int{}
	for line := range results {
		counts[line[:8]]++
	}
	for k, v := range counts {
		fmt.Printf("%-10s %3d\n", k, v)
	}
}
