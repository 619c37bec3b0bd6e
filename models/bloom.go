package models

import "hash/maphash"

// bloom is a Bloom filter of strings: has reports false only for strings never
// added (and rarely true for one never added).
type bloom struct {
	bits []uint64
	seed maphash.Seed
}

// newBloom returns a filter of m bits (a power of two).
func newBloom(m int) *bloom {
	return &bloom{bits: make([]uint64, m/64), seed: maphash.MakeSeed()}
}

// probes derives four bit positions from one 64-bit hash (double hashing).
func (b *bloom) probes(s string) [4]uint64 {
	h := maphash.String(b.seed, s)
	h1, h2 := h, h>>32|h<<32
	mask := uint64(len(b.bits)*64 - 1)
	var p [4]uint64
	for i := range p {
		p[i] = (h1 + uint64(i)*h2) & mask
	}
	return p
}

func (b *bloom) add(s string) {
	for _, p := range b.probes(s) {
		b.bits[p/64] |= 1 << (p % 64)
	}
}

func (b *bloom) has(s string) bool {
	for _, p := range b.probes(s) {
		if b.bits[p/64]&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}
