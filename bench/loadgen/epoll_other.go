//go:build !linux

package main

import "errors"

// Without epoll every connection keeps its reading goroutine.
const epollAvailable = false

type epollReader struct{}

func newEpollReader(*worker, int) (*epollReader, error) {
	return nil, errors.New("loadgen: the epoll reader needs Linux")
}

func (*epollReader) adopt(c *wsClient) (client, error) { return c, nil }

func (*epollReader) close() {}
