package retry

import "sync"

// Quota is the AWS standard-mode retry token bucket, shared by every call
// of a process: a retry takes RetryCost tokens (TimeoutCost after a
// timeout), a call that succeeds after retrying gives back what its retries
// took, and a call that succeeds at once adds NoRetryIncrement. When the
// bucket cannot pay for a retry, the retry is not made, so a failing
// endpoint is not hammered by every concurrent invocation at once.
type Quota struct {
	mu       sync.Mutex
	capacity int
	tokens   int

	RetryCost        int // default 5
	TimeoutCost      int // default 10
	NoRetryIncrement int // default 1
}

// Quota defaults, as in the AWS SDK standard retry mode.
const (
	DefaultQuotaCapacity    = 500
	DefaultRetryCost        = 5
	DefaultTimeoutCost      = 10
	DefaultNoRetryIncrement = 1
)

// NewQuota returns a full bucket of capacity tokens (DefaultQuotaCapacity
// if capacity <= 0) with the default costs.
func NewQuota(capacity int) *Quota {
	if capacity <= 0 {
		capacity = DefaultQuotaCapacity
	}
	return &Quota{capacity: capacity, tokens: capacity,
		RetryCost: DefaultRetryCost, TimeoutCost: DefaultTimeoutCost, NoRetryIncrement: DefaultNoRetryIncrement}
}

// Available returns the tokens left.
func (q *Quota) Available() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tokens
}

// Capacity returns the bucket size.
func (q *Quota) Capacity() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.capacity
}

func (q *Quota) acquire(timeout bool) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	cost := q.RetryCost
	if timeout {
		cost = q.TimeoutCost
	}
	if cost > q.tokens {
		return 0, false
	}
	q.tokens -= cost
	return cost, true
}

func (q *Quota) refund(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tokens = min(q.capacity, q.tokens+n)
}

func (q *Quota) success() { q.refund(q.NoRetryIncrement) }
