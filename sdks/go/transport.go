package fastpubsub

import (
	"context"
	"sync"
	"time"
)

// linkEvents is what a transport reports about one open connection, in frame order, from the
// transport's own goroutines.
type linkEvents interface {
	onDelivery(tenant, channel string, payload []byte, patterns []string)
	onSubscribed(tenant, pattern string)
	onPong()
	// onServerError is an ERR from the edge; a refused SUB has detail "SUB:{tenant}:{pattern}".
	onServerError(code, detail string)
	onReconnectRequested()
	// onClose fires once; err is nil after a local close.
	onClose(err error)
}

// link is one open connection. subscribe, unsubscribe, ping and close never block (they queue
// for the connection's writer goroutine); publish blocks only for backpressure (wait=true).
type link interface {
	subscribe(tenant, pattern string)
	unsubscribe(tenant, pattern string)
	publish(ctx context.Context, tenant, channel string, payload []byte, mode byte, wait bool) error
	ping()
	buffered() int
	// flush waits until everything queued so far was handed to the network.
	flush(ctx context.Context) error
	close()
}

type openParams struct {
	edge    Edge
	token   string
	events  linkEvents
	timeout time.Duration
	wg      *sync.WaitGroup // every goroutine of the link is counted here
	opts    *options
}

type transport interface {
	name() string
	open(ctx context.Context, p openParams) (link, error)
}

// outbox is a link's batched write queue: producers append encoded frames; the writer
// goroutine takes everything queued at once and writes it as one burst. Backpressure: a
// publish waits while more than limit bytes are queued.
type outbox struct {
	mu       sync.Mutex
	arena    []byte
	frames   []outFrame
	bytes    int
	limit    int
	closed   bool
	enqueued uint64
	written  uint64
	wake     chan struct{} // one pending wake-up for the writer
	progress chan struct{} // closed (and replaced) after each burst and on close
}

type outFrame struct {
	off, n int
	text   bool
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, wake: make(chan struct{}, 1), progress: make(chan struct{})}
}

// add queues one frame built by build (which appends to the arena). With wait it first waits
// (bounded by ctx) while the queue holds more than limit bytes.
func (o *outbox) add(ctx context.Context, text, wait bool, build func([]byte) []byte) error {
	o.mu.Lock()
	for wait && o.bytes > o.limit && !o.closed {
		ch := o.progress
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctxError(ctx)
		}
		o.mu.Lock()
	}
	if o.closed {
		o.mu.Unlock()
		return errLinkClosed
	}
	start := len(o.arena)
	o.arena = build(o.arena)
	n := len(o.arena) - start
	o.frames = append(o.frames, outFrame{start, n, text})
	o.bytes += n
	o.enqueued++
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// take returns everything queued (swapping in the spare buffers) and its sequence number.
func (o *outbox) take(spareArena []byte, spareFrames []outFrame) ([]byte, []outFrame, uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	arena, frames := o.arena, o.frames
	o.arena, o.frames = spareArena[:0], spareFrames[:0]
	return arena, frames, o.enqueued
}

// done records that the burst up to seq left; it wakes publishers and flushers.
func (o *outbox) done(seq uint64, n int) {
	o.mu.Lock()
	o.written = seq
	o.bytes -= n
	close(o.progress)
	o.progress = make(chan struct{})
	o.mu.Unlock()
}

func (o *outbox) shut() {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.progress)
		o.progress = make(chan struct{})
	}
	o.mu.Unlock()
}

// serve is a link's writer goroutine: each time frames are queued it takes the whole burst
// and hands it to write (which sends it as one burst). It returns nil when ctx ends, or
// write's error (the outbox is shut either way, so waiting publishers and flushers wake).
func (o *outbox) serve(ctx context.Context, write func(arena []byte, frames []outFrame) error) error {
	var arena []byte
	var frames []outFrame
	for {
		select {
		case <-o.wake:
		case <-ctx.Done():
			o.shut()
			return nil
		}
		var seq uint64
		arena, frames, seq = o.take(arena, frames)
		if len(frames) == 0 {
			continue
		}
		err := write(arena, frames)
		o.done(seq, len(arena))
		if err != nil {
			o.shut()
			return err
		}
	}
}

func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}

// flush waits until everything enqueued before the call was written.
func (o *outbox) flush(ctx context.Context) error {
	o.mu.Lock()
	target := o.enqueued
	for o.written < target && !o.closed {
		ch := o.progress
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctxError(ctx)
		}
		o.mu.Lock()
	}
	closed := o.closed && o.written < target
	o.mu.Unlock()
	if closed {
		return errLinkClosed
	}
	return nil
}

var errLinkClosed = newError(CodeClosed, "connection closed")
