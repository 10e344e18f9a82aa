package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// rssKB returns VmRSS of pid in KiB.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("loadgen: no VmRSS in /proc/%d/status", pid)
}

// cpuTime returns utime+stime of pid (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields restart after its closing paren.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// selfCPU returns this process's user+system CPU time at microsecond resolution.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// listenerPID finds the process with a TCP socket listening on port, by matching the socket's
// inode in /proc/net/tcp{,6} against the fds of every process we may read. 0 if none.
func listenerPID(port int) int {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, _ := os.ReadDir(p + "/fd")
		for _, fd := range fds {
			if link, err := os.Readlink(p + "/fd/" + fd.Name()); err == nil && inodes[link] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				return pid
			}
		}
	}
	return 0
}

// machineCPU is the machine-wide CPU time from the first line of /proc/stat, in clock ticks.
type machineCPU struct{ busy, total int64 }

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, s := range f[1:9] { // user nice system idle iowait irq softirq steal
		v, _ := strconv.ParseInt(s, 10, 64)
		m.total += v
		if i != 3 && i != 4 {
			m.busy += v
		}
	}
	return m
}

// A cpuWindow measures, over a stretch of time, how much CPU the machine spent outside the
// server and the load generator: other engineers' work on a shared machine, which spoils a
// measurement.
type cpuWindow struct {
	pids    []int // server and load generator processes
	start   time.Time
	machine machineCPU
	ours    time.Duration
}

func (w *cpuWindow) oursNow() time.Duration {
	var d time.Duration
	for _, p := range w.pids {
		if p > 0 {
			t, _ := cpuTime(p)
			d += t
		}
	}
	return d
}

func startCPUWindow(pids ...int) *cpuWindow {
	w := &cpuWindow{pids: pids, start: time.Now(), machine: readMachineCPU()}
	w.ours = w.oursNow()
	return w
}

// other returns the CPU seconds others used since start, and that as a fraction of all the
// machine's CPU time in the window.
func (w *cpuWindow) other() (sec, frac float64) {
	m := readMachineCPU()
	busy := time.Duration(m.busy-w.machine.busy) * clockTick
	total := time.Duration(m.total-w.machine.total) * clockTick
	o := busy - (w.oursNow() - w.ours)
	if o < 0 {
		o = 0
	}
	if total <= 0 {
		return o.Seconds(), 0
	}
	return o.Seconds(), float64(o) / float64(total)
}

// writeSyscalls returns syscw from /proc/PID/io: how many write(2)-family calls (write, writev,
// pwrite…) pid made. Socket calls (send, sendmsg) are not counted there, so it shows how a server
// batches its writes only if it writes with write/writev (Node does; Switchboard uses sendmsg:
// count those with `perf stat -e syscalls:sys_enter_sendmsg -p PID`).
func writeSyscalls(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}
