package flowtest

import (
	"slices"
	"strings"
	"sync"
)

// OSS is an in-memory stand-in for the OSS buckets a distributed Map reads
// its items from (ItemReader) and writes its results to (ResultWriter):
// tests seed it and inspect it. Buckets spring into being on first write.
type OSS struct {
	mu      sync.Mutex
	buckets map[string]map[string][]byte
}

// NewOSS returns an empty fake OSS.
func NewOSS() *OSS { return &OSS{buckets: map[string]map[string][]byte{}} }

// Put stores an object, replacing any of that name.
func (o *OSS) Put(bucket, name string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buckets[bucket] == nil {
		o.buckets[bucket] = map[string][]byte{}
	}
	o.buckets[bucket][name] = slices.Clone(data)
}

// Get returns an object's bytes and whether it exists.
func (o *OSS) Get(bucket, name string) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.buckets[bucket][name]
	return slices.Clone(b), ok
}

// List returns the names of a bucket's objects under prefix, sorted.
func (o *OSS) List(bucket, prefix string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var names []string
	for name := range o.buckets[bucket] {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
