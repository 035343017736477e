module github.com/fastpubsub/fastpubsub/sdks/go

go 1.26.0

require (
	github.com/coder/websocket v1.8.14
	github.com/quic-go/quic-go v0.66.0
	go.uber.org/goleak v1.3.0
)

require (
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
