package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"switchboard/chat"
)

// historyTTL is how long the cached history is served without asking the
// store again. Messages posted through this server update the cache at
// once; the TTL bounds how long a change made elsewhere (another process on
// the same database, a renamed author) takes to show.
const historyTTL = time.Second

// history caches the "chat history" a joining socket receives, encoded
// once: loading the last messages and encoding them for every connection
// was half of the chat's CPU while a wave of clients (re)connected.
type history struct {
	messages chat.MessageService
	size     int
	now      func() time.Time

	mu       sync.Mutex
	items    []chatMessage   // oldest first; nil until loaded
	raw      json.RawMessage // items, encoded
	loadedAt time.Time
	version  uint64        // bumped by every add
	loading  chan struct{} // closed when the load in progress ends; nil if none
}

func newHistory(messages chat.MessageService, size int) *history {
	return &history{messages: messages, size: size, now: time.Now}
}

// get returns the encoded history, from the cache while it is fresh, else
// from the store (one load at a time; the others wait for it).
func (h *history) get(ctx context.Context) (json.RawMessage, error) {
	for {
		h.mu.Lock()
		if h.raw != nil && h.now().Sub(h.loadedAt) < historyTTL {
			raw := h.raw
			h.mu.Unlock()
			return raw, nil
		}
		if wait := h.loading; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.loading = done
		version := h.version
		h.mu.Unlock()

		raw, items, err := h.load(ctx)

		h.mu.Lock()
		h.loading = nil
		close(done)
		if err != nil {
			h.mu.Unlock()
			return nil, err
		}
		if h.version == version { // no message was added meanwhile
			h.items, h.raw, h.loadedAt = items, raw, h.now()
		} // else the next get loads again; this one's answer may lack the newest
		h.mu.Unlock()
		return raw, nil
	}
}

func (h *history) load(ctx context.Context) (json.RawMessage, []chatMessage, error) {
	recent, err := h.messages.RecentMessages(ctx, h.size)
	if err != nil {
		return nil, nil, err
	}
	items := make([]chatMessage, len(recent))
	for i, m := range recent {
		items[i] = chatMessage{Username: m.Username, Name: m.Name, Message: m.Text, At: m.At}
	}
	raw, err := encodeHistory(items)
	if err != nil {
		return nil, nil, err
	}
	return raw, items, nil
}

// add records a message just stored and broadcast, so the next joiner's
// history has it without asking the store.
func (h *history) add(m chatMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.version++
	if h.items == nil {
		return // not loaded yet: the first get reads the store
	}
	items := append(h.items, m)
	if len(items) > h.size {
		items = append([]chatMessage(nil), items[len(items)-h.size:]...)
	}
	raw, err := encodeHistory(items)
	if err != nil {
		h.items, h.raw = nil, nil // cannot happen (plain fields); reload
		return
	}
	h.items, h.raw = items, raw
}

// encodeHistory encodes items as every other event argument is: without
// escaping <, > and & (as JSON.stringify does).
func encodeHistory(items []chatMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(items); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
