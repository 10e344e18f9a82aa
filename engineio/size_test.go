package engineio

import (
	"testing"
	"unsafe"

	"switchboard/engineio/internal/wsconn"
)

// Every open session holds a Session and, over WebSocket, a wsconn.Conn,
// idle or not: one more field can move either up an allocator size class
// and add its whole step to the memory of every idle connection
// (BENCHMARKS.md, idle RSS). Growing them past these sizes should be a
// decision.
func TestPerConnectionStructsStayInTheirSizeClasses(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are computed for 64-bit platforms")
	}
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"Session", unsafe.Sizeof(Session{}), 448},
		{"wsconn.Conn", unsafe.Sizeof(wsconn.Conn{}), 256},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes: past the %d-byte size class it kept to", c.name, c.size, c.max)
		}
	}
}
