package socketio

import (
	"testing"
	"unsafe"
)

// Every connected socket holds a Socket and its connection a client, idle
// or not: one more field can move either up an allocator size class and
// add its whole step to the memory of every idle connection (BENCHMARKS.md,
// idle RSS). Growing them past these sizes should be a decision.
func TestPerConnectionStructsStayInTheirSizeClasses(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are computed for 64-bit platforms")
	}
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"Socket", unsafe.Sizeof(Socket{}), 320},
		{"client", unsafe.Sizeof(client{}), 256},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes: past the %d-byte size class it kept to", c.name, c.size, c.max)
		}
	}
}
