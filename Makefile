# Switchboard — the two commands a fresh machine needs:
#   make run    the chat server on :3000 with embedded defaults (SQLite file, no external service)
#   make test   everything CI runs (.ci/run calls it)
SHELL := /bin/bash

.PHONY: run test deps vet race fuzz interop bench fmt

run:
	./scripts/deps.sh bundle
	go build -o bin/switchboard ./cmd/switchboard
	./bin/switchboard $(ARGS)

test:
	./scripts/test.sh

deps:
	./scripts/deps.sh all

vet:
	gofmt -l . | (! grep .) || (echo "gofmt would change the files above" && exit 1)
	go vet ./...
	go tool staticcheck ./...

race:
	go test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh 5s

bench:
	./bench/compare.sh

fmt:
	gofmt -w .
